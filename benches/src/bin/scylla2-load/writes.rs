//! Counting write-family syscalls of this process. `syscw` in `/proc/self/io` only counts
//! `write`/`writev` (the VFS path), while Rust's `TcpStream` writes with `send(2)`; so the tool
//! defines the libc entry points `write`, `writev`, `send`, `sendto` and `sendmsg` itself: the
//! executable's definitions take precedence over libc's for every call made from this binary,
//! and each counts, then issues the same system call through `libc::syscall` (which sets
//! `errno` and returns -1 on failure exactly as the libc wrappers do).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use libc::{c_int, c_long, c_void, iovec, msghdr, size_t, sockaddr, socklen_t, ssize_t};

static WRITES: AtomicU64 = AtomicU64::new(0);

/// Write-family syscalls (`write`, `writev`, `send`, `sendto`, `sendmsg`) made so far.
pub fn count() -> u64 {
    WRITES.load(Relaxed)
}

/// `write(2)`.
///
/// # Safety
/// Same contract as libc's `write`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    WRITES.fetch_add(1, Relaxed);
    // SAFETY: the caller upholds write(2)'s contract; the arguments are passed unchanged.
    unsafe { libc::syscall(libc::SYS_write, fd as c_long, buf, count) as ssize_t }
}

/// `writev(2)`.
///
/// # Safety
/// Same contract as libc's `writev`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t {
    WRITES.fetch_add(1, Relaxed);
    // SAFETY: the caller upholds writev(2)'s contract; the arguments are passed unchanged.
    unsafe { libc::syscall(libc::SYS_writev, fd as c_long, iov, iovcnt as c_long) as ssize_t }
}

/// `send(2)`: `sendto` without an address, as libc implements it.
///
/// # Safety
/// Same contract as libc's `send`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
    WRITES.fetch_add(1, Relaxed);
    let null: *const sockaddr = std::ptr::null();
    // SAFETY: the caller upholds send(2)'s contract; a null address with length 0 is what
    // sendto(2) expects for a connected socket.
    unsafe {
        libc::syscall(
            libc::SYS_sendto,
            fd as c_long,
            buf,
            len,
            flags as c_long,
            null,
            0 as c_long,
        ) as ssize_t
    }
}

/// `sendto(2)`.
///
/// # Safety
/// Same contract as libc's `sendto`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
    addr: *const sockaddr,
    addrlen: socklen_t,
) -> ssize_t {
    WRITES.fetch_add(1, Relaxed);
    // SAFETY: the caller upholds sendto(2)'s contract; the arguments are passed unchanged.
    unsafe {
        libc::syscall(
            libc::SYS_sendto,
            fd as c_long,
            buf,
            len,
            flags as c_long,
            addr,
            addrlen as c_long,
        ) as ssize_t
    }
}

/// `sendmsg(2)`.
///
/// # Safety
/// Same contract as libc's `sendmsg`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
    WRITES.fetch_add(1, Relaxed);
    // SAFETY: the caller upholds sendmsg(2)'s contract; the arguments are passed unchanged.
    unsafe { libc::syscall(libc::SYS_sendmsg, fd as c_long, msg, flags as c_long) as ssize_t }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    #[test]
    fn socket_and_file_writes_are_counted() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client =
            std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        let before = super::count();
        client.write_all(b"ping").expect("send");
        let mut buf = [0u8; 4];
        std::io::Read::read_exact(&mut server, &mut buf).expect("recv");
        assert_eq!(&buf, b"ping");
        let mut sink = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .expect("open");
        sink.write_all(b"x").expect("write");
        // Other tests may write concurrently: at least our two calls were counted.
        assert!(super::count() - before >= 2);
    }
}
