//! The control channel between a predecessor and its successor: a Unix stream socket pair,
//! one end passed to the successor. Text lines, then raw bytes where a line announces them:
//!
//! | from | message | meaning |
//! |---|---|---|
//! | successor | `ready` | start-up finished and readiness is true: take over |
//! | predecessor | `state <name> <length>` + that many bytes | a saved state, as its snapshot file would hold it |
//! | predecessor | `done` | every state was sent (what was not sent is in the state directory) |

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The successor is ready.
pub(crate) const READY: &str = "ready";
/// Every state was sent.
pub(crate) const DONE: &str = "done";
/// A state follows.
pub(crate) const STATE: &str = "state";

/// The longest line accepted: a message never needs more.
const MAX_LINE: u64 = 1024;
/// The largest state accepted over the channel.
pub(crate) const MAX_STATE: usize = 1 << 30;

/// One line without its newline; `None` at the end of the stream.
pub(crate) async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    let n = reader.take(MAX_LINE).read_line(&mut line).await?;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a line of the upgrade protocol is too long or cut off",
        ));
    }
    line.pop();
    Ok(Some(line))
}

/// Writes one line.
pub(crate) async fn write_line(
    writer: &mut (impl AsyncWrite + Unpin),
    line: &str,
) -> std::io::Result<()> {
    writer.write_all(format!("{line}\n").as_bytes()).await?;
    writer.flush().await
}

/// A message from the predecessor.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FromPredecessor {
    /// A state's snapshot bytes.
    State { name: String, bytes: Vec<u8> },
    /// Nothing more will come.
    Done,
}

/// Reads the predecessor's next message; `None` at the end of the stream.
pub(crate) async fn read_message(
    reader: &mut (impl AsyncBufRead + Unpin),
) -> std::io::Result<Option<FromPredecessor>> {
    let Some(line) = read_line(reader).await? else {
        return Ok(None);
    };
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let mut words = line.split(' ');
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some(DONE), None, None, None) => Ok(Some(FromPredecessor::Done)),
        (Some(STATE), Some(name), Some(len), None) => {
            let len: usize = len
                .parse()
                .ok()
                .filter(|l| *l <= MAX_STATE)
                .ok_or_else(|| invalid(format!("bad state length in {line:?}")))?;
            let mut bytes = vec![0; len];
            reader.read_exact(&mut bytes).await?;
            Ok(Some(FromPredecessor::State {
                name: name.to_string(),
                bytes,
            }))
        }
        _ => Err(invalid(format!("unknown message {line:?}"))),
    }
}

/// Sends a state's bytes.
pub(crate) async fn write_state(
    writer: &mut (impl AsyncWrite + Unpin),
    name: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    writer
        .write_all(format!("{STATE} {name} {}\n", bytes.len()).as_bytes())
        .await?;
    writer.write_all(bytes).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_round_trip_and_garbage_is_refused() {
        let mut wire = Vec::new();
        write_state(&mut wire, "jobs", b"a\nb")
            .await
            .expect("in memory");
        write_line(&mut wire, DONE).await.expect("in memory");
        let mut r = tokio::io::BufReader::new(&wire[..]);
        assert_eq!(
            read_message(&mut r).await.expect("in memory"),
            Some(FromPredecessor::State {
                name: "jobs".into(),
                bytes: b"a\nb".to_vec()
            })
        );
        assert_eq!(
            read_message(&mut r).await.expect("in memory"),
            Some(FromPredecessor::Done)
        );
        assert_eq!(read_message(&mut r).await.expect("in memory"), None);
        let mut r = tokio::io::BufReader::new(&b"HTTP/1.1 200 OK\n"[..]);
        assert!(read_message(&mut r).await.is_err());
        let long = vec![b'x'; 4096];
        let mut r = tokio::io::BufReader::new(&long[..]);
        assert!(read_line(&mut r).await.is_err());
    }
}
