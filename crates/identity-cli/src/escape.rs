//! Text the CLI did not write itself, made safe for a terminal.
//!
//! Names, logins, problem titles and details, field errors and raw bodies
//! come from the service (or from an import file); an ESC in a user's first
//! name, printed raw, would let whoever set it recolour, rewrite or hide what
//! the terminal shows, or worse on some terminals. [`untrusted`] shows every
//! control character (C0, DEL and C1: Unicode's `Cc`) in a visible form,
//! `\x1b`, `\u{9b}`, `\n`, wherever such text is put into a table or a
//! report, so that a line break in it cannot fake a line either. The
//! controls that reorder text ([`is_bidi_control`]: U+202A to U+202E,
//! U+2066 to U+2069, U+200E, U+200F, U+061C) are shown the same way
//! (`\u{202e}`): a right-to-left override in a name would make the rest of
//! its row read backwards ("Trojan Source"). [`lines`]
//! does the same but keeps line breaks, for the CLI's own multi-line text
//! as it is written out (a guard behind the first: what was escaped stays as
//! it is, since escaping is idempotent).
//!
//! JSON output keeps the exact text: JSON escapes C0 controls itself, and
//! [`JsonEscapes`] makes serde_json escape DEL, C1 and the bidi controls too
//! (`\u009b`, `\u202e`), which it would otherwise write raw. The text read back from the JSON is the
//! service's, unchanged.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// `text` with every control character (line breaks included) in a visible
/// form: `\n`, `\r`, `\t`, `\x1b` (C0 and DEL), `\u{9b}` (C1).
///
/// Backslashes are kept as they are (logins such as `ACME\ann` stay
/// readable), so `\x1b` typed as four characters looks like an escaped ESC:
/// the terminal is safe either way.
pub(crate) fn untrusted(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` with every control character but line breaks in a visible form:
/// for the CLI's own text on its way to the terminal.
pub(crate) fn lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// Whether `c` is one of the controls that reorder text: the embeddings and
/// overrides (U+202A to U+202E), the isolates (U+2066 to U+2069) and the
/// marks (U+200E, U+200F, U+061C).
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    )
}

/// Whether `c` is shown escaped: a control character or a bidi control.
fn is_escaped(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

fn escape(text: &str, keep_line_breaks: bool) -> Cow<'_, str> {
    let escaped = |c: char| is_escaped(c) && !(keep_line_breaks && c == '\n');
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !escaped(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// A serde_json formatter, `F` (pretty or compact), that also escapes DEL,
/// the C1 controls and the bidi controls in strings, as `\u007f`, `\u0080`
/// to `\u009f` and `\u202e`...: the same text to a JSON reader, nothing a
/// terminal acts on.
pub(crate) struct JsonEscapes<F>(pub(crate) F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for JsonEscapes<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json has escaped the C0 controls already: what is left of
        // `Cc` is DEL and C1.
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_escaped(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    // The layout is `F`'s.
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_key(writer)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

/// `value` as JSON, pretty or compact, written to `writer` with
/// [`JsonEscapes`].
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(
    writer: impl io::Write,
    value: &T,
    pretty: bool,
) -> io::Result<()> {
    let result = if pretty {
        let mut serializer = serde_json::Serializer::with_formatter(
            writer,
            JsonEscapes(serde_json::ser::PrettyFormatter::new()),
        );
        value.serialize(&mut serializer)
    } else {
        let mut serializer = serde_json::Serializer::with_formatter(
            writer,
            JsonEscapes(serde_json::ser::CompactFormatter),
        );
        value.serialize(&mut serializer)
    };
    // serde_json gives the writer's own error back as it was (a closed
    // pipe stays `BrokenPipe`); its other errors become `InvalidData`.
    result.map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "\u{1b}[31mAnn\u{7}\u{9b}2J\tLee\r\n\u{7f}";

    fn has_control(text: &str) -> bool {
        text.chars().any(char::is_control)
    }

    #[test]
    fn every_control_character_is_shown_and_nothing_else_changes() {
        assert_eq!(
            untrusted(HOSTILE),
            "\\x1b[31mAnn\\x07\\u{9b}2J\\tLee\\r\\n\\x7f"
        );
        assert_eq!(lines(HOSTILE), "\\x1b[31mAnn\\x07\\u{9b}2J\\tLee\\r\n\\x7f");
        for plain in ["Ann Lee", "Zoë Łukasiewicz 李", "ACME\\ann", ""] {
            assert!(matches!(untrusted(plain), Cow::Borrowed(_)), "{plain}");
            assert_eq!(untrusted(plain), plain);
        }
        // Escaping is idempotent: text escaped where it came in is left as
        // it is on its way out.
        assert_eq!(untrusted(&untrusted(HOSTILE)), untrusted(HOSTILE));
        assert_eq!(lines(&untrusted(HOSTILE)), untrusted(HOSTILE));
        for c in (0..=0x9f_u32).filter_map(char::from_u32) {
            let text = c.to_string();
            assert!(!has_control(&untrusted(&text)), "{c:?}");
        }
    }

    #[test]
    fn controls_that_reorder_text_are_shown_too() {
        let bidi: Vec<char> = ('\u{202a}'..='\u{202e}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200e}', '\u{200f}', '\u{061c}'])
            .collect();
        assert_eq!(bidi.len(), 12);
        for c in bidi {
            let text = format!("admin{c}nimda");
            let shown = untrusted(&text);
            assert_eq!(shown, format!("admin\\u{{{:x}}}nimda", u32::from(c)));
            assert_eq!(lines(&text), shown);
            let mut json = Vec::new();
            write_json(&mut json, &text, false).unwrap();
            let json = String::from_utf8(json).unwrap();
            assert_eq!(json, format!("\"admin\\u{:04x}nimda\"", u32::from(c)));
            assert_eq!(serde_json::from_str::<String>(&json).unwrap(), text);
        }
        // Right-to-left letters themselves are text, not controls.
        assert_eq!(untrusted("שלום مرحبا"), "שלום مرحبا");
    }

    #[test]
    fn json_keeps_the_exact_text_with_no_control_character_raw() {
        let value = serde_json::json!({ "firstName": HOSTILE, HOSTILE: [HOSTILE] });
        for pretty in [true, false] {
            let mut out = Vec::new();
            write_json(&mut out, &value, pretty).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
            assert!(
                text.contains("\\u009b") && text.contains("\\u007f"),
                "{text}"
            );
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
        // A writer's failure keeps its kind: a closed pipe is recognised.
        struct Closed;
        impl io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(io::ErrorKind::BrokenPipe))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let error = write_json(Closed, &value, false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);

        let mut pretty = Vec::new();
        write_json(&mut pretty, &serde_json::json!({"a": [1]}), true).unwrap();
        assert_eq!(
            String::from_utf8(pretty).unwrap(),
            serde_json::to_string_pretty(&serde_json::json!({"a": [1]})).unwrap()
        );
    }
}
