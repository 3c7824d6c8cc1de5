//! Opening the TCP socket: socket2 options (TCP_NODELAY, keepalive, buffer sizes), an
//! optional chosen local port (for Scylla's shard-aware port), and the connect timeout.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use tokio::net::{TcpSocket, TcpStream};

use super::config::ConnectionConfig;
use super::error::ConnectionError;

/// Connects to `addr`, binding local port `local_port` first when given (the caller retries
/// another port on `AddrInUse`).
pub(crate) async fn connect(
    addr: SocketAddr,
    local_port: Option<u16>,
    config: &ConnectionConfig,
) -> Result<TcpStream, ConnectionError> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    if let Some(size) = config.send_buffer_size {
        socket.set_send_buffer_size(size)?;
    }
    if let Some(size) = config.recv_buffer_size {
        socket.set_recv_buffer_size(size)?;
    }
    if let Some(port) = local_port {
        let local = match addr {
            SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], port)),
            SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], port)),
        };
        socket.set_reuse_address(true)?;
        socket.bind(&local.into())?;
    }
    let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
    let stream = tokio::time::timeout(config.connect_timeout, socket.connect(addr))
        .await
        .map_err(|_| ConnectionError::ConnectTimeout(config.connect_timeout))??;
    stream.set_nodelay(config.tcp_nodelay)?;
    if let Some(idle) = config.tcp_keepalive {
        SockRef::from(&stream).set_tcp_keepalive(&TcpKeepalive::new().with_time(idle))?;
    }
    Ok(stream)
}
