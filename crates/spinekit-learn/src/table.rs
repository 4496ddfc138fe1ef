//! Delimited text tables (CSV, TSV, whitespace-separated `.dat`) read into typed columns: numeric or categorical,
//! with missing values kept as `None`.

use crate::error::{LearnError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Cell texts read as missing (case-insensitive, after trimming).
pub const MISSING_TOKENS: &[&str] = &["", "na", "n/a", "nan", "?", "null", "none", "missing"];

/// Whether a column holds numbers or category labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

impl ColumnKind {
    pub fn describe(self) -> &'static str {
        match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        }
    }
}

/// Values of one column; `None` = missing.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    Numeric(Vec<Option<f64>>),
    Categorical(Vec<Option<String>>),
}

/// One named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: ColumnValues,
}

impl Column {
    pub fn kind(&self) -> ColumnKind {
        match self.values {
            ColumnValues::Numeric(_) => ColumnKind::Numeric,
            ColumnValues::Categorical(_) => ColumnKind::Categorical,
        }
    }

    /// Cell `row` as text (numbers in shortest round-trip form), `None` when missing.
    pub fn text(&self, row: usize) -> Option<String> {
        match &self.values {
            ColumnValues::Numeric(v) => v[row].map(|x| x.to_string()),
            ColumnValues::Categorical(v) => v[row].clone(),
        }
    }
}

/// A typed table: every column has `n_rows` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub n_rows: usize,
}

/// How to read a delimited file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Field separator; `None` detects it from the first line: comma, then tab, then semicolon, else runs of
    /// whitespace (UCI `.dat` files).
    pub delimiter: Option<char>,
    /// Names for a file without a header line; `None` = the first line is the header.
    pub column_names: Option<Vec<String>>,
    /// Columns to keep as categories even when every value is a number (e.g. a 0/1/2 grade or a site code).
    pub categorical: Vec<String>,
}

impl Table {
    /// Reads `path` (UTF-8 text). Errors name the file.
    pub fn read(path: &Path, opts: &ReadOptions) -> Result<Table> {
        let text = std::fs::read_to_string(path).map_err(|e| LearnError::File {
            path: path.display().to_string(),
            reason: format!("cannot read the table ({e})"),
        })?;
        Table::parse(&text, opts)
    }

    /// Parses delimited text. A column is numeric when its values are numbers; when most values are numbers
    /// but a few are text, that is an error naming the row (a typo or a unit such as "12 mm"), unless the column is
    /// listed in `opts.categorical`.
    pub fn parse(text: &str, opts: &ReadOptions) -> Result<Table> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // (1-based line number, fields)
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty())
            .collect();
        let Some(&(_, first)) = lines.first() else {
            return Err(LearnError::Empty);
        };
        let delim = opts
            .delimiter
            .or_else(|| [',', '\t', ';'].into_iter().find(|d| first.contains(*d)));
        let (names, data_lines) = match &opts.column_names {
            Some(n) => (n.clone(), &lines[..]),
            None => (
                split_line(first, delim)
                    .into_iter()
                    .map(|s| s.trim().to_string())
                    .collect(),
                &lines[1..],
            ),
        };
        if data_lines.is_empty() {
            return Err(LearnError::Empty);
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(LearnError::DuplicateColumn { column: n.clone() });
            }
        }
        let mut cells: Vec<Vec<Option<String>>> =
            vec![Vec::with_capacity(data_lines.len()); names.len()];
        for &(line_no, line) in data_lines {
            let fields = split_line(line, delim);
            if fields.len() != names.len() {
                return Err(LearnError::Ragged {
                    line: line_no,
                    got: fields.len(),
                    expected: names.len(),
                });
            }
            for (c, f) in fields.into_iter().enumerate() {
                let t = f.trim();
                let missing = MISSING_TOKENS.iter().any(|m| m.eq_ignore_ascii_case(t));
                cells[c].push((!missing).then(|| t.to_string()));
            }
        }
        let n_rows = data_lines.len();
        let mut columns = Vec::with_capacity(names.len());
        for (name, col) in names.into_iter().zip(cells) {
            let forced = opts.categorical.contains(&name);
            let present = col.iter().flatten().count();
            let numeric = col
                .iter()
                .flatten()
                .filter(|s| parse_number(s).is_some())
                .count();
            let values = if !forced && present > 0 && 2 * numeric > present {
                let mut v = Vec::with_capacity(n_rows);
                for (row, cell) in col.iter().enumerate() {
                    match cell {
                        None => v.push(None),
                        Some(s) => match parse_number(s) {
                            Some(x) => v.push(Some(x)),
                            None => {
                                return Err(LearnError::TextInNumeric {
                                    column: name,
                                    row: row + 1,
                                    value: s.chars().take(40).collect(),
                                })
                            }
                        },
                    }
                }
                ColumnValues::Numeric(v)
            } else {
                ColumnValues::Categorical(col)
            };
            columns.push(Column { name, values });
        }
        Ok(Table { columns, n_rows })
    }

    /// Column by name, or an error listing the columns there are.
    pub fn column(&self, name: &str) -> Result<&Column> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| LearnError::MissingColumn {
                column: name.to_string(),
                available: self.column_names().join(", "),
            })
    }

    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }
}

/// A finite decimal number (no "inf"/"nan": those are not measurements).
fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Splits one line; with a delimiter, double-quoted fields may contain it (RFC 4180, `""` is a quote).
fn split_line(line: &str, delim: Option<char>) -> Vec<String> {
    let Some(d) = delim else {
        return line.split_whitespace().map(str::to_string).collect();
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        if quoted {
            if ch == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(ch);
            }
        } else if ch == '"' && cur.trim().is_empty() {
            cur.clear();
            quoted = true;
        } else if ch == d {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_types_and_missing_values() {
        let t = Table::parse(
            "age,sex,\"site, city\",y\n71,M,\"a, b\",yes\nNA,F,c,no\n5.5,,c,yes\n",
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(t.n_rows, 3);
        assert_eq!(
            t.columns[0].values,
            ColumnValues::Numeric(vec![Some(71.0), None, Some(5.5)])
        );
        assert_eq!(t.columns[1].kind(), ColumnKind::Categorical);
        assert_eq!(t.columns[1].text(2), None);
        assert_eq!(t.columns[2].name, "site, city");
        assert_eq!(t.columns[2].text(0).as_deref(), Some("a, b"));
    }

    #[test]
    fn whitespace_file_without_header() {
        let opts = ReadOptions {
            column_names: Some(vec!["a".into(), "b".into(), "class".into()]),
            ..Default::default()
        };
        let t = Table::parse("1 2 DH\n3  4 NO", &opts).unwrap();
        assert_eq!(t.n_rows, 2);
        assert_eq!(t.column("b").unwrap().text(1).as_deref(), Some("4"));
    }

    #[test]
    fn clear_errors() {
        let o = ReadOptions::default();
        assert!(matches!(Table::parse("", &o), Err(LearnError::Empty)));
        assert!(matches!(Table::parse("a,b\n", &o), Err(LearnError::Empty)));
        let e = Table::parse("a,b\n1,x\n2,y\nabc,z\n4,w\n", &o).unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 'a' is numeric but row 3 holds the text 'abc'; fix the value, leave it empty if it is missing, or declare the column categorical"
        );
        assert!(matches!(
            Table::parse("a,b\n1\n", &o),
            Err(LearnError::Ragged {
                line: 2,
                got: 1,
                expected: 2
            })
        ));
        let forced = ReadOptions {
            categorical: vec!["a".into()],
            ..Default::default()
        };
        let t = Table::parse("a,b\n1,x\nabc,z\n4,w\n", &forced).unwrap();
        assert_eq!(t.columns[0].kind(), ColumnKind::Categorical);
        let e = t.column("zzz").unwrap_err().to_string();
        assert_eq!(e, "column 'zzz' is not in the table (columns: a, b)");
    }
}
