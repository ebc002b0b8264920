//! Request parameters as name/value pairs, with RFC 6749 §3.1's rule that
//! "request and response parameters MUST NOT be included more than once".
//! Parameters sent without a value are treated as omitted (RFC 6749 §3.1),
//! and so are values containing a NUL character, which no parameter may
//! carry (and which Postgres cannot store).

/// Parsed `application/x-www-form-urlencoded` parameters.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// A parameter was sent more than once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter {0} is included more than once")]
pub struct Duplicate(pub String);

impl Params {
    /// Parses a query string or form body.
    pub fn parse(encoded: &[u8]) -> Params {
        Params {
            pairs: form_urlencoded::parse(encoded).into_owned().collect(),
        }
    }

    /// Builds from pairs (tests, internal callers).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Params {
        Params {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The single value of `name`; `Ok(None)` when absent or empty,
    /// `Err` when sent more than once.
    pub fn get(&self, name: &str) -> Result<Option<&str>, Duplicate> {
        let mut found = None;
        for (key, value) in &self.pairs {
            if key == name {
                if found.is_some() {
                    return Err(Duplicate(name.to_string()));
                }
                found = Some(value.as_str());
            }
        }
        Ok(found.filter(|v| !v.is_empty() && !v.contains('\0')))
    }

    /// Re-encodes the parameters as a query string (every byte escaped as
    /// needed, so it is safe in a URL or a header).
    pub fn to_query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            out.append_pair(k, v);
        }
        out.finish()
    }

    /// The name of the first parameter whose value is longer than `limit`
    /// bytes, if any.
    pub fn first_longer_than(&self, limit: usize) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(_, v)| v.len() > limit)
            .map(|(k, _)| k.as_str())
    }

    /// What is wrong with the parameters as a whole, if anything: the first
    /// one that appears more than once, or carries a NUL character.
    pub fn first_defect(&self) -> Option<Defect> {
        let mut seen = std::collections::HashSet::new();
        for (k, v) in &self.pairs {
            if k.contains('\0') || v.contains('\0') {
                return Some(Defect::Nul(k.replace('\0', "")));
            }
            if !seen.insert(k.as_str()) {
                return Some(Defect::Repeated(k.clone()));
            }
        }
        None
    }
}

/// Why a request's parameters are refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Defect {
    /// RFC 6749 §3.1: parameters must not be repeated.
    #[error("parameter {0} is included more than once")]
    Repeated(String),
    /// A NUL character in a name or value.
    #[error("parameter {0} contains a NUL character")]
    Nul(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_values_and_duplicates() {
        let p = Params::parse(b"a=1&b=&c=x%20y&a=2");
        assert_eq!(p.get("a"), Err(Duplicate("a".into())));
        assert_eq!(p.get("b"), Ok(None));
        assert_eq!(p.get("c"), Ok(Some("x y")));
        assert_eq!(p.get("zz"), Ok(None));
        assert_eq!(p.first_defect(), Some(Defect::Repeated("a".into())));
        assert_eq!(Params::parse(b"a=1&b=2").first_defect(), None);
        let nul = Params::parse(b"client_id=%00&b=2");
        assert_eq!(nul.get("client_id"), Ok(None));
        assert_eq!(nul.first_defect(), Some(Defect::Nul("client_id".into())));
        assert_eq!(p.first_longer_than(3), None);
        assert_eq!(p.first_longer_than(2), Some("c"));
    }
}
