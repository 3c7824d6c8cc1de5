//! scylla2-macros: derive macros for rows, bind values and UDTs (see the macros issue).
