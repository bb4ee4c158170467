//! Finds the process on the other end of a loopback connection, so the proxy can kill the
//! function mid-invocation: the one process that holds the client socket.
//!
//! Linux only, read from `/proc`: the client's socket is the `/proc/net/tcp` row whose local
//! address is the peer the proxy accepted and whose remote address is the proxy; its inode is
//! then looked up among every process's open files.

use std::net::SocketAddr;
use std::path::Path;

/// The pid holding the TCP socket `client` -> `server` (both on this machine), if any.
pub fn socket_owner(client: SocketAddr, server: SocketAddr) -> Option<u32> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let inode = client_inode(&table, client, server)?;
    let wanted = format!("socket:[{inode}]");
    crate::proc_tree::pids().into_iter().find(|pid| {
        holds(
            &Path::new("/proc").join(pid.to_string()).join("fd"),
            &wanted,
        )
    })
}

fn holds(fd_dir: &Path, wanted: &str) -> bool {
    let Ok(fds) = std::fs::read_dir(fd_dir) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target.as_os_str() == wanted))
}

/// The inode of the row `client` -> `server` in a `/proc/net/tcp` table.
fn client_inode(table: &str, client: SocketAddr, server: SocketAddr) -> Option<u64> {
    let (local, remote) = (hex_addr(client)?, hex_addr(server)?);
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.len() > 9
            && cols[1].eq_ignore_ascii_case(&local)
            && cols[2].eq_ignore_ascii_case(&remote))
        .then(|| cols[9].parse().ok())
        .flatten()
    })
}

/// `127.0.0.1:8080` as `/proc/net/tcp` writes it: `0100007F:1F90` (IPv4 only).
fn hex_addr(addr: SocketAddr) -> Option<String> {
    match addr {
        SocketAddr::V4(v4) => Some(format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(v4.ip().octets()),
            v4.port()
        )),
        SocketAddr::V6(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_like_the_kernel_writes_them() {
        assert_eq!(
            hex_addr("127.0.0.1:8080".parse().unwrap()).as_deref(),
            Some("0100007F:1F90")
        );
        assert_eq!(hex_addr("[::1]:1".parse().unwrap()), None);
    }

    #[test]
    fn the_client_row_is_found_by_both_ends() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0\n\
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0\n";
        let client = "127.0.0.1:50000".parse().unwrap();
        let server = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(client_inode(table, client, server), Some(222));
        assert_eq!(client_inode(table, server, client), None);
    }

    #[test]
    fn a_real_connection_is_traced_to_this_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let stream = std::net::TcpStream::connect(server).unwrap();
        let (_accepted, peer) = listener.accept().unwrap();
        assert_eq!(peer, stream.local_addr().unwrap());
        assert_eq!(socket_owner(peer, server), Some(std::process::id()));
    }
}
