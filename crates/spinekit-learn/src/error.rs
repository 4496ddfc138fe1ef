use thiserror::Error;

/// Why a table could not be learned from or predicted on, as one line a clinician can act on.
#[derive(Debug, Error)]
pub enum LearnError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("the table is empty: it needs a header line and at least one row of data")]
    Empty,
    #[error("line {line}: {got} values but the header has {expected} columns")]
    Ragged {
        line: usize,
        got: usize,
        expected: usize,
    },
    #[error("column '{column}' appears twice in the header")]
    DuplicateColumn { column: String },
    #[error("column '{column}' is not in the table (columns: {available})")]
    MissingColumn { column: String, available: String },
    #[error("column '{column}' is numeric but row {row} holds the text '{value}'; fix the value, leave it empty if it is missing, or declare the column categorical")]
    TextInNumeric {
        column: String,
        row: usize,
        value: String,
    },
    #[error("target column '{column}' is missing on row {row}; every patient needs an outcome to train or evaluate")]
    MissingTarget { column: String, row: usize },
    #[error("target column '{column}' has only one class ('{class}'); a model needs at least two outcomes to learn from")]
    OneClass { column: String, class: String },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "the model expects column '{column}' to be {expected}, but the input's column is {found}"
    )]
    MistypedColumn {
        column: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("column '{column}' row {row} has the category '{value}', which the model never saw in training (known: {known})")]
    UnknownCategory {
        column: String,
        row: usize,
        value: String,
        known: String,
    },
    #[error("{0}")]
    Validate(#[from] spinekit_validate::ValidateError),
}

pub type Result<T> = std::result::Result<T, LearnError>;
