//! Small builders for dicom-rs data sets, UIDs and DICOM date/time/number strings.

use crate::codes::Code;
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, Length, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;

pub(crate) type Obj = InMemDicomObject;

/// Puts a string element (multiple values joined with `\`).
pub(crate) fn put_str(o: &mut Obj, tag: Tag, vr: VR, s: &str) {
    o.put(DataElement::new(tag, vr, PrimitiveValue::from(s)));
}

/// Puts text that spinekit wrote (labels, descriptions, code meanings, SR text): always in plain ASCII within the
/// VR's length, because the object may carry the source's character set or none (ISO-IR 6). Values copied from
/// the source (patient, study) keep [`put_str`].
pub(crate) fn put_text(o: &mut Obj, tag: Tag, vr: VR, s: &str) {
    let max = match vr {
        VR::SH => 16,
        VR::LO => 64,
        VR::ST => 1024,
        VR::LT => 10240,
        _ => usize::MAX,
    };
    put_str(o, tag, vr, &plain_text(s, max));
}

pub(crate) fn put_us(o: &mut Obj, tag: Tag, v: u16) {
    o.put(DataElement::new(tag, VR::US, PrimitiveValue::from(v)));
}

pub(crate) fn put_seq(o: &mut Obj, tag: Tag, items: Vec<Obj>) {
    o.put(DataElement::new(
        tag,
        VR::SQ,
        DataSetSequence::new(items, Length::UNDEFINED),
    ));
}

pub(crate) fn obj() -> Obj {
    InMemDicomObject::new_empty()
}

/// One Code Sequence item (Code Value, Coding Scheme Designator, Code Meaning).
pub(crate) fn code_item(c: &Code) -> Obj {
    use dicom_dictionary_std::tags;
    let mut o = obj();
    if c.value.len() > 16 {
        // Long Code Value (0008,0119) for values beyond SH's 16 characters (PS3.3 8.8).
        put_str(&mut o, tags::LONG_CODE_VALUE, VR::UC, &c.value);
    } else {
        put_str(&mut o, tags::CODE_VALUE, VR::SH, &c.value);
    }
    put_str(&mut o, tags::CODING_SCHEME_DESIGNATOR, VR::SH, &c.scheme);
    put_text(&mut o, tags::CODE_MEANING, VR::LO, &c.meaning);
    o
}

pub(crate) fn put_code(o: &mut Obj, tag: Tag, c: &Code) {
    put_seq(o, tag, vec![code_item(c)]);
}

/// Keeps at most `n` characters (LO/SH limits) without splitting a character.
pub(crate) fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Free text for a value written under the default character repertoire (ISO-IR 6, ASCII): typographic
/// characters of spinekit's own messages become their ASCII forms, anything else '?', at most `n` characters.
/// Without this, a source series with no Specific Character Set cannot hold "T11–T12".
pub(crate) fn plain_text(s: &str, n: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '–' | '—' | '−' => out.push('-'),
            '‘' | '’' => out.push('\''),
            '“' | '”' => out.push('"'),
            '…' => out.push_str("..."),
            '×' => out.push('x'),
            '≥' => out.push_str(">="),
            '≤' => out.push_str("<="),
            '°' => out.push_str(" deg"),
            '§' => out.push_str("section "),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            _ => out.push('?'),
        }
    }
    truncate(&out, n)
}

/// A new UID under the UUID-derived root `2.25` (PS3.5 B.2): `2.25.` + a random 122-bit version-4 UUID as a
/// decimal integer. At most 44 characters.
pub fn new_uid() -> String {
    let mut v: u128 = rand::random();
    // UUID version 4 and RFC 4122 variant bits.
    v = (v & !(0xF << 76)) | (0x4 << 76);
    v = (v & !(0x3 << 62)) | (0x2 << 62);
    format!("2.25.{v}")
}

/// Decimal String (DS, at most 16 characters) for a finite value, as close to `v` as 16 characters allow.
pub fn ds(v: f64) -> String {
    let plain = format!("{v}");
    if plain.len() <= 16 {
        return plain;
    }
    // Shorten: fixed notation with fewer decimals, else scientific.
    for prec in (0..=15).rev() {
        let s = format!("{v:.prec$}");
        if s.len() <= 16 {
            return s;
        }
    }
    for prec in (0..=9).rev() {
        let s = format!("{v:.prec$e}");
        if s.len() <= 16 {
            return s;
        }
    }
    format!("{v:.0e}")
}

/// Joins several DS values with `\`.
pub(crate) fn ds_multi(v: &[f64]) -> String {
    v.iter().map(|x| ds(*x)).collect::<Vec<_>>().join("\\")
}

/// Current UTC date (`YYYYMMDD`) and time (`HHMMSS`).
pub(crate) fn now_utc() -> (String, String) {
    let t = chrono::Utc::now();
    (
        t.format("%Y%m%d").to_string(),
        t.format("%H%M%S").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ds_fits_16_characters_and_keeps_value() {
        for v in [
            0.0,
            1.5,
            -1024.0,
            123.456_789_012_345_67,
            1e-12,
            9.87654321e20,
            -0.000_123_456_789,
        ] {
            let s = ds(v);
            assert!(s.len() <= 16, "{s}");
            let back: f64 = s.parse().unwrap();
            assert!((back - v).abs() <= 1e-9 * v.abs().max(1e-12), "{v} -> {s}");
        }
    }

    #[test]
    fn uids_are_unique_valid_and_short() {
        let a: Vec<String> = (0..1000).map(|_| new_uid()).collect();
        let mut b = a.clone();
        b.sort();
        b.dedup();
        assert_eq!(b.len(), a.len());
        for u in &a {
            assert!(u.len() <= 64 && u.starts_with("2.25."));
            // No leading zero in a component (PS3.5 9.1).
            assert!(!u[5..].starts_with('0'));
            assert!(u[5..].chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn date_is_plausible() {
        let (d, t) = now_utc();
        assert_eq!(d.len(), 8);
        assert_eq!(t.len(), 6);
        assert!(d.as_str() >= "20240101");
    }
}
