//! AG108's library sinks: Django and DRF calls that run queries on the caller's behalf.

use super::super::{Ctx, Finding};
use crate::semantic::{Context, PyModel};
use tree_sitter::Node;

/// A sink that is a call (`serializer.is_valid()`, `render(…)`, `request.session.save()`).
pub(super) fn call_sink<'t>(_py: &PyModel<'t>, _cx: &Ctx, _call: Node<'t>, _func: Node<'t>, _ctx: Context) -> Option<Finding> {
    None
}

/// Sinks that are attribute reads (`serializer.data`, `paginator.count`).
pub(super) fn attribute_sinks(_py: &PyModel, _cx: &Ctx, _out: &mut Vec<Finding>) {}
