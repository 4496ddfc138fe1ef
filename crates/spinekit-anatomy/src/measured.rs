//! [`Measured`]: a value, or the reason it could not be measured — never an invented number.

use serde::{Deserialize, Serialize};

/// A value, or why it could not be measured. Every engine (vertebral measurements, body composition) reports
/// through this one type, so report.json has one shape for "value or why not":
/// `{"status": "measured", "value": …}` or `{"status": "not_measurable", "reason": "…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    into = "Repr<T>",
    from = "Repr<T>",
    bound(
        serialize = "T: Serialize + Clone",
        deserialize = "T: Deserialize<'de>"
    )
)]
pub enum Measured<T> {
    Value(T),
    NotMeasurable { reason: String },
}

/// The serialised shape (internally tagged, so a plain number can be the value).
#[derive(Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum Repr<T> {
    Measured { value: T },
    NotMeasurable { reason: String },
}

impl<T> From<Measured<T>> for Repr<T> {
    fn from(m: Measured<T>) -> Self {
        match m {
            Measured::Value(value) => Repr::Measured { value },
            Measured::NotMeasurable { reason } => Repr::NotMeasurable { reason },
        }
    }
}

impl<T> From<Repr<T>> for Measured<T> {
    fn from(r: Repr<T>) -> Self {
        match r {
            Repr::Measured { value } => Measured::Value(value),
            Repr::NotMeasurable { reason } => Measured::NotMeasurable { reason },
        }
    }
}

impl<T> Measured<T> {
    /// Not measurable, with the reason in words a clinician understands.
    pub fn not(reason: impl Into<String>) -> Self {
        Measured::NotMeasurable {
            reason: reason.into(),
        }
    }
    pub fn value(&self) -> Option<&T> {
        match self {
            Measured::Value(v) => Some(v),
            Measured::NotMeasurable { .. } => None,
        }
    }
    pub fn reason(&self) -> Option<&str> {
        match self {
            Measured::Value(_) => None,
            Measured::NotMeasurable { reason } => Some(reason),
        }
    }
    /// The value, or the reason as the error.
    pub fn as_result(&self) -> Result<&T, &str> {
        match self {
            Measured::Value(v) => Ok(v),
            Measured::NotMeasurable { reason } => Err(reason),
        }
    }
    /// Applies `f` to the value, keeping the reason.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Measured<U> {
        match self {
            Measured::Value(v) => Measured::Value(f(v)),
            Measured::NotMeasurable { reason } => Measured::NotMeasurable { reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_json_shape_for_numbers_and_structs() {
        let v: Measured<f64> = Measured::Value(1.5);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"status":"measured","value":1.5}"#
        );
        let n: Measured<f64> = Measured::not("L3 not in view");
        let s = serde_json::to_string(&n).unwrap();
        assert_eq!(
            s,
            r#"{"status":"not_measurable","reason":"L3 not in view"}"#
        );
        assert_eq!(serde_json::from_str::<Measured<f64>>(&s).unwrap(), n);
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        struct H {
            height_mm: f64,
        }
        let h = Measured::Value(H { height_mm: 24.0 });
        let s = serde_json::to_string(&h).unwrap();
        assert_eq!(s, r#"{"status":"measured","value":{"height_mm":24.0}}"#);
        assert_eq!(serde_json::from_str::<Measured<H>>(&s).unwrap(), h);
    }
}
