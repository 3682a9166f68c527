//! AG900 unused-suppression (opt-in, like ruff's RUF100): a suppression comment naming a rule
//! that reported nothing on its line.
//!
//! The rule itself finds nothing: it needs the other rules' findings before suppression, so
//! the pipeline computes it ([`crate::analysis::suppression::unused`]) after every other rule
//! ran. It covers Python and Rust files (`// awaitguard: ignore[AG501]`, `// noqa: AG501`);
//! the registry lists it as a Python rule, and the pipeline runs it on Rust files itself
//! (with the pre-filter letting through every Rust file with a directive). Invariants:
//! - Only codes (or names) of enabled rules of the file's language are judged; other tools' codes
//!   (`# noqa: E501`), unknown codes, bare `# noqa` and bare `# awaitguard: ignore` are never
//!   reported (unknown means silent).
//! - It runs only on whole-file analyses: with it enabled, the sparse and the focused
//!   (incremental) paths are not taken, so a suppression in a part of the file that was not
//!   analysed is never called unused.
//! - The fix removes exactly the unused codes, or the whole directive when nothing else is
//!   left in it; it is safe (a comment changes no behaviour).

use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::syntax::Lang;

pub struct UnusedSuppression;

pub static META: RuleMeta = RuleMeta {
    code: "AG900",
    name: "unused-suppression",
    lang: Lang::Python,
    severity: Severity::Hint,
    fix: FixAvailability::Always,
    triggers: &[&["noqa", "awaitguard"]],
    summary: "suppression comment that suppresses nothing (opt-in)",
    doc: r#"## AG900 unused-suppression

**Opt-in**: enabled only when selected (`--select AG900`, `select = ["AG900"]`, or `ALL`).

**What it catches.** A `# awaitguard: ignore[CODE]` or `# noqa: CODE` comment (in Rust,
`// awaitguard: ignore[CODE]` or `// noqa: CODE`) where rule CODE is enabled and reports
nothing on that line: the code was fixed, or the comment moved. A finding whose line ends
inside a multi-line string or with a `\` continuation has its comment where that string or
line ends.

**Why it matters.** A stale suppression hides the next real finding on that line. Baselines
made with `--add-noqa` shrink as the code gets fixed; this rule tells you which comments can go.

**Example.**
```python
async def detail(pk):
    book = await Book.objects.aget(pk=pk)  # awaitguard: ignore[AG101]   (AG900)
```

**Fix (safe).** Remove the unused codes, or the whole comment when nothing else is in it.

**Stays silent on** codes of other tools (`# noqa: E501`), unknown codes, rules that are not
enabled, and the bare forms `# noqa` / `# awaitguard: ignore`.
"#,
};

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _cx: &Ctx, _out: &mut Vec<Finding>) {}
}
