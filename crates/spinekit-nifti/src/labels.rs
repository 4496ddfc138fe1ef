//! Label names stored as a CaretExtension XML `LabelTable` (Connectome Workbench format, written by
//! TotalSegmentator in header extension code 0; Workbench itself uses code 30).
//!
//! A tiny hand parser is enough: only `<Label Key=".." Red=".." Green=".." Blue=".." Alpha="..">name</Label>`
//! elements inside `<LabelTable>` matter, attributes may come in any order and names may be CDATA or text.

use serde::{Deserialize, Serialize};

/// One label value with its name and display colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelEntry {
    pub value: u32,
    pub name: String,
    pub rgba: [u8; 4],
}

/// The label names of a segmentation (value → name, colour), in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LabelTable {
    pub entries: Vec<LabelEntry>,
}

impl LabelTable {
    /// Name of a label value.
    pub fn name_of(&self, value: u32) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.value == value)
            .map(|e| e.name.as_str())
    }

    /// Value of a label name (exact match).
    pub fn value_of(&self, name: &str) -> Option<u32> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.value)
    }

    /// Parses a CaretExtension XML document. `None` when it holds no `<LabelTable>`; entries whose `Key` is not a
    /// non-negative integer are skipped with a warning.
    pub fn from_caret_xml(xml: &str, warnings: &mut Vec<String>) -> Option<Self> {
        let start = xml.find("<LabelTable")?;
        let body = &xml[start + "<LabelTable".len()..];
        let body = &body[body.find('>')? + 1..];
        let body = match body.find("</LabelTable>") {
            Some(end) => &body[..end],
            None => {
                warnings.push(
                    "label table in the header extension is not closed; read what was there".into(),
                );
                body
            }
        };
        let mut entries = Vec::new();
        let mut rest = body;
        while let Some(pos) = rest.find("<Label") {
            rest = &rest[pos + "<Label".len()..];
            // `<LabelXyz` is another element; a label tag continues with whitespace, '>' or '/'.
            if !rest.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
                continue;
            }
            let Some(tag_end) = find_tag_end(rest) else {
                warnings.push("unterminated <Label> tag in the label table".into());
                break;
            };
            let attrs = parse_attributes(&rest[..tag_end]);
            let self_closing = rest[..tag_end].trim_end().ends_with('/');
            rest = &rest[tag_end + 1..];
            let name = if self_closing {
                String::new()
            } else {
                let end = rest.find("</Label>").unwrap_or(rest.len());
                let n = element_text(&rest[..end]);
                rest = &rest[end..];
                n
            };
            let attr = |k: &str| {
                attrs
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.as_str())
            };
            let Some(value) = attr("Key").and_then(|k| k.trim().parse::<u32>().ok()) else {
                warnings.push(format!(
                    "label table entry with key {:?} is not a non-negative integer; skipped",
                    attr("Key").unwrap_or("")
                ));
                continue;
            };
            let channel = |k: &str, default: u8| {
                attr(k)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite())
                    .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
                    .unwrap_or(default)
            };
            entries.push(LabelEntry {
                value,
                name,
                rgba: [
                    channel("Red", 0),
                    channel("Green", 0),
                    channel("Blue", 0),
                    channel("Alpha", 255),
                ],
            });
        }
        Some(Self { entries })
    }

    /// The CaretExtension XML, laid out as TotalSegmentator writes it (its reader looks up
    /// `CaretExtension/VolumeInformation/LabelTable/Label` with `@Key` and the text).
    pub fn to_caret_xml(&self) -> String {
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?> <CaretExtension>   <VolumeInformation Index=\"0\">   <LabelTable>\n",
        );
        for e in &self.entries {
            let c = e.rgba.map(|v| v as f64 / 255.0);
            s.push_str(&format!(
                "<Label Key=\"{}\" Red=\"{}\" Green=\"{}\" Blue=\"{}\" Alpha=\"{}\"><![CDATA[{}]]></Label>\n",
                e.value,
                c[0],
                c[1],
                c[2],
                c[3],
                e.name.replace("]]>", "]]]]><![CDATA[>")
            ));
        }
        s.push_str(
            "\n  </LabelTable>  <StudyMetaDataLinkSet>  </StudyMetaDataLinkSet>  \
             <VolumeType><![CDATA[Label]]></VolumeType>   </VolumeInformation></CaretExtension>\n",
        );
        s
    }
}

/// Index of the `>` closing a tag, skipping `>` inside quoted attribute values.
fn find_tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// `name="value"` / `name='value'` pairs of a tag body, entity-decoded.
fn parse_attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq]
            .split_whitespace()
            .last()
            .unwrap_or("")
            .to_string();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(end) = after[1..].find(q) else { break };
        out.push((name, decode_entities(&after[1..1 + end])));
        rest = &after[1 + end + 1..];
    }
    out
}

/// Element content: CDATA sections verbatim, other text entity-decoded, comments dropped; trimmed.
fn element_text(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").unwrap_or(r.len());
            out.push_str(&r[..end]);
            rest = r.get(end + 3..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.find("-->").map_or("", |e| &r[e + 3..]);
        } else {
            let end = rest
                .char_indices()
                .skip(1)
                .find(|&(_, c)| c == '<')
                .map_or(rest.len(), |(i, _)| i);
            out.push_str(&decode_entities(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out.trim().to_string()
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';').filter(|&i| i <= 12) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let ent = &tail[1..semi];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .or_else(|| ent.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_attributes_in_any_order_quotes_entities_and_cdata() {
        let xml = r#"<CaretExtension><VolumeInformation><LabelTable>
            <Label Alpha='0.5' Key="7" Blue="1.0" Green="0" Red="0.5019607843137255"><![CDATA[L1 & <co>]]></Label>
            <Label Key="8" Red="1" Green="1" Blue="1">disc &amp; &#x41;&#66;</Label>
            <Label Key="-3" Red="1" Green="1" Blue="1">bad</Label>
            <Label Key="0"/>
        </LabelTable></VolumeInformation></CaretExtension>"#;
        let mut w = Vec::new();
        let t = LabelTable::from_caret_xml(xml, &mut w).unwrap();
        assert_eq!(
            t.entries,
            vec![
                LabelEntry {
                    value: 7,
                    name: "L1 & <co>".into(),
                    rgba: [128, 0, 255, 128]
                },
                LabelEntry {
                    value: 8,
                    name: "disc & AB".into(),
                    rgba: [255, 255, 255, 255]
                },
                LabelEntry {
                    value: 0,
                    name: String::new(),
                    rgba: [0, 0, 0, 255]
                },
            ]
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(t.name_of(8), Some("disc & AB"));
        assert_eq!(t.value_of("L1 & <co>"), Some(7));
    }

    #[test]
    fn xml_round_trip_including_awkward_names() {
        let t = LabelTable {
            entries: vec![
                LabelEntry {
                    value: 26,
                    name: "vertebrae_S1".into(),
                    rgba: [0, 0, 255, 255],
                },
                LabelEntry {
                    value: 300,
                    name: "odd ]]> name <&>".into(),
                    rgba: [1, 2, 3, 4],
                },
            ],
        };
        let back = LabelTable::from_caret_xml(&t.to_caret_xml(), &mut Vec::new()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn no_label_table_gives_none() {
        assert!(LabelTable::from_caret_xml("<CaretExtension/>", &mut Vec::new()).is_none());
        assert!(LabelTable::from_caret_xml("", &mut Vec::new()).is_none());
    }
}
