//! Where each key of a config file sits (1-based line of its value), so that an error about a
//! value that parsed as TOML but means nothing (an unknown rule, a bad glob) names its line.
//!
//! Reads spans with `toml::Spanned`; a file that does not parse yields an empty map (the
//! parse error itself already names its line).

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

type SpannedMap = BTreeMap<String, Spanned<toml::Value>>;

/// The two keys whose values are tables of their own.
#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Nested {
    severity: Option<SpannedMap>,
    per_file_ignores: Option<SpannedMap>,
}

#[derive(Deserialize)]
struct Py<T> {
    tool: Option<Tool<T>>,
}

#[derive(Deserialize)]
struct Tool<T> {
    awaitguard: Option<T>,
}

fn section<T: for<'de> Deserialize<'de>>(text: &str, pyproject: bool) -> Option<T> {
    if pyproject {
        toml::from_str::<Py<T>>(text).ok()?.tool?.awaitguard
    } else {
        toml::from_str::<T>(text).ok()
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// `key` → line and `table.key` → line for the awaitguard section of `text`.
pub fn key_lines(text: &str, pyproject: bool) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (k, v) in section::<SpannedMap>(text, pyproject).unwrap_or_default() {
        out.insert(k, line_of(text, v.span().start));
    }
    let nested = section::<Nested>(text, pyproject).unwrap_or_default();
    for (table, map) in [("severity", nested.severity), ("per-file-ignores", nested.per_file_ignores)] {
        for (k, v) in map.unwrap_or_default() {
            out.insert(format!("{table}.{k}"), line_of(text, v.span().start));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_keys() {
        let text = "[project]\nname = \"x\"\n\n[tool.awaitguard]\nselect = [\"AG1\"]\n\n[tool.awaitguard.per-file-ignores]\n\"tests/*\" = [\"AG101\"]\n";
        let l = key_lines(text, true);
        assert_eq!(l.get("select"), Some(&5));
        assert_eq!(l.get("per-file-ignores.tests/*"), Some(&8));
        let l = key_lines("ignore = []\n[severity]\nAG101 = \"warning\"\n", false);
        assert_eq!(l.get("ignore"), Some(&1));
        assert_eq!(l.get("severity.AG101"), Some(&3));
    }
}
