//! A stand-in for systemd's notification socket.

use super::*;

/// A stand-in for systemd's notification socket: every datagram, with the descriptors it
/// carried.
pub(crate) struct NotifySocket {
    pub(crate) socket: std::os::unix::net::UnixDatagram,
    pub(crate) path: PathBuf,
}

impl NotifySocket {
    pub(crate) fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind the notify socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        NotifySocket { socket, path }
    }

    /// The next message (and its descriptors), or `None` after 200 ms of silence.
    pub(crate) fn next(&self) -> Option<(String, Vec<std::os::fd::OwnedFd>)> {
        use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, recvmsg};
        use std::mem::MaybeUninit;
        let mut buf = [0u8; 4096];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = match recvmsg(&self.socket, &mut iov, &mut control, RecvFlags::empty()) {
            Ok(m) => m,
            Err(rustix::io::Errno::AGAIN) => return None,
            Err(e) => panic!("recvmsg: {e}"),
        };
        let mut fds = Vec::new();
        for m in control.drain() {
            if let RecvAncillaryMessage::ScmRights(received) = m {
                fds.extend(received);
            }
        }
        Some((String::from_utf8_lossy(&buf[..msg.bytes]).to_string(), fds))
    }

    /// Every message until 200 ms of silence.
    pub(crate) fn drain(&self) -> Vec<(String, Vec<std::os::fd::OwnedFd>)> {
        std::iter::from_fn(|| self.next()).collect()
    }
}
