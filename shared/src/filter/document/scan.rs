//! The validating scan that builds a [`Document`](super::Document)'s nodes in one pass over
//! the event. It is iterative, keeping the open containers in the nodes themselves, so nesting
//! depth costs neither stack nor a stack of its own.

use super::{Node, NodeId, NodeKind};

/// `after` of an open container with no enclosing one.
const OUTERMOST: NodeId = NodeId::MAX;

/// The nodes of `bytes`, or `None` when it is not one JSON value with optional whitespace
/// around it.
pub(super) fn index(bytes: &[u8]) -> Option<Vec<Node>> {
    // CloudTrail records hold a node (key or value) per 19 bytes or so; guessing high spares
    // the vector regrowing on most events.
    let mut scan = Scan {
        bytes,
        pos: 0,
        nodes: Vec::with_capacity(bytes.len() / 12 + 1),
    };
    scan.document()?;
    Some(scan.nodes)
}

struct Scan<'a> {
    bytes: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
}

/// Bytes that end the plain run of a string: the closing quote, a backslash, and the control
/// characters JSON forbids inside strings.
pub(super) static STRING_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Where the plain run of a string starting at `i` ends: the first special byte at or after
/// `i`, or the end of `bytes`. String text is the bulk of an event, so this reads eight bytes at
/// a time, flagging in each word the bytes equal to `"` or `\` or below 0x20 with the usual
/// borrow tricks. A borrow only ever spreads upward from a flagged byte, so the lowest flag is
/// always exact, which is the only one used.
pub(super) fn plain_run_end(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    while let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let flags = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word);
        let flags = flags & HIGHS;
        if flags != 0 {
            // Little-endian: the first byte is the lowest.
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while bytes
        .get(i)
        .is_some_and(|&b| !STRING_SPECIAL[usize::from(b)])
    {
        i += 1;
    }
    i
}

impl Scan<'_> {
    /// The next byte after JSON whitespace, which is skipped.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    fn push(&mut self, kind: NodeKind, start: usize, end: usize) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(Node {
            kind,
            start,
            end,
            after: id + 1,
        });
        id
    }

    fn document(&mut self) -> Option<()> {
        // The innermost container still open.
        let mut open = OUTERMOST;
        loop {
            // A value starts here.
            match self.peek()? {
                first @ (b'{' | b'[') => {
                    let (kind, close) = if first == b'{' {
                        (NodeKind::Object, b'}')
                    } else {
                        (NodeKind::Array, b']')
                    };
                    let id = self.push(kind, self.pos, self.pos + 1);
                    if let Some(node) = self.nodes.get_mut(id) {
                        node.after = open;
                    }
                    open = id;
                    self.pos += 1;
                    if self.peek()? != close {
                        if kind == NodeKind::Object {
                            self.key()?;
                        }
                        continue;
                    }
                    // Empty: the loop below closes it.
                }
                b'"' => self.string()?,
                b't' => self.literal(b"true", NodeKind::True)?,
                b'f' => self.literal(b"false", NodeKind::False)?,
                b'n' => self.literal(b"null", NodeKind::Null)?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // A value ended: close containers until one takes another member or element.
            loop {
                let Some(container) = self.nodes.get(open) else {
                    // The root value ended; only whitespace may follow.
                    return self.peek().is_none().then_some(());
                };
                let object = container.kind == NodeKind::Object;
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            self.key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.pos += 1;
                let after = self.nodes.len();
                let end = self.pos;
                let node = self.nodes.get_mut(open)?;
                open = node.after;
                node.after = after;
                node.end = end;
            }
        }
    }

    /// A member's key and its colon, up to where the value starts.
    fn key(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.string()?;
        if self.peek()? != b':' {
            return None;
        }
        self.pos += 1;
        Some(())
    }

    /// A string, with the cursor on its opening quote.
    fn string(&mut self) -> Option<()> {
        let start = self.pos + 1;
        let mut i = start;
        let mut kind = NodeKind::String;
        loop {
            i = plain_run_end(self.bytes, i);
            match *self.bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    kind = NodeKind::EscapedString;
                    i += match *self.bytes.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' if self
                            .bytes
                            .get(i + 2..i + 6)?
                            .iter()
                            .all(u8::is_ascii_hexdigit) =>
                        {
                            6
                        }
                        _ => return None,
                    };
                }
                // A control character.
                _ => return None,
            }
        }
        self.push(kind, start, i);
        self.pos = i + 1;
        Some(())
    }

    fn literal(&mut self, word: &[u8], kind: NodeKind) -> Option<()> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end)? != word {
            return None;
        }
        self.push(kind, self.pos, end);
        self.pos = end;
        Some(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        let digit = |i: usize| self.bytes.get(i).is_some_and(u8::is_ascii_digit);
        let digits_from = |mut i: usize| {
            while digit(i) {
                i += 1;
            }
            i
        };
        let mut i = start;
        if self.bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        i = match self.bytes.get(i)? {
            b'0' if digit(i + 1) => return None,
            b'0' => i + 1,
            b'1'..=b'9' => digits_from(i + 1),
            _ => return None,
        };
        if self.bytes.get(i) == Some(&b'.') {
            if !digit(i + 1) {
                return None;
            }
            i = digits_from(i + 1);
        }
        if matches!(self.bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(self.bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digit(i) {
                return None;
            }
            i = digits_from(i);
        }
        self.push(NodeKind::Number, start, i);
        self.pos = i;
        Some(())
    }
}
