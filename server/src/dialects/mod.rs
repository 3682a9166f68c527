//! ORM knowledge as data: method tables, async twins and the version that introduced each.
//! Rules read these tables; nothing here looks at trees.

pub mod django;
pub mod django_api;
pub mod dorm;
pub mod rust_crates;

use std::fmt;

/// A framework version, `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u16, pub u16, pub u16);

impl Version {
    /// Parses `5`, `5.1`, `5.1.3`, tolerating suffixes such as `5.1rc1` or `5.1.post1`.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.trim().trim_start_matches(['v', 'V']).split('.');
        let mut num = |required: bool| -> Option<u16> {
            match parts.next() {
                Some(p) => {
                    let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
                    if digits.is_empty() {
                        if required { None } else { Some(0) }
                    } else {
                        digits.parse().ok()
                    }
                }
                None if required => None,
                None => Some(0),
            }
        };
        let major = num(true)?;
        let minor = num(false)?;
        let patch = num(false)?;
        Some(Version(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn parses_versions() {
        assert_eq!(Version::parse("4.2"), Some(Version(4, 2, 0)));
        assert_eq!(Version::parse("5.1.3"), Some(Version(5, 1, 3)));
        assert_eq!(Version::parse("5.1rc1"), Some(Version(5, 1, 0)));
        assert_eq!(Version::parse("x"), None);
        assert!(Version(4, 1, 4) > Version(4, 1, 3));
    }
}
