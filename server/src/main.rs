//! The `awaitguard` binary: `lsp`, `check`, `rule`. See `cli` for the commands.
//!
//! Memory comes from mimalloc, for Rust and for tree-sitter's C core alike (parsing and tree
//! walks allocate many small objects, from every thread; the system allocator spent about a
//! tenth of a workspace scan there).

use clap::Parser;
use std::ffi::c_void;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// tree-sitter requires that its allocator never return null for a non-zero size (its own
/// default aborts): so do these.
mod ts_alloc {
    use super::c_void;
    use libmimalloc_sys as mi;

    fn checked(p: *mut c_void, size: usize) -> *mut c_void {
        if p.is_null() && size != 0 {
            std::process::abort();
        }
        p
    }

    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        checked(unsafe { mi::mi_malloc(size) }, size)
    }

    pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
        checked(unsafe { mi::mi_calloc(n, size) }, n.saturating_mul(size))
    }

    pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
        checked(unsafe { mi::mi_realloc(p, size) }, size)
    }

    pub unsafe extern "C" fn free(p: *mut c_void) {
        unsafe { mi::mi_free(p) }
    }
}

fn main() {
    // SAFETY: first thing in the process, before any tree-sitter object exists; one allocator
    // family (mimalloc), null never returned for a non-zero size, malloc's alignment.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: ts_alloc::malloc,
            calloc: ts_alloc::calloc,
            realloc: ts_alloc::realloc,
            free: ts_alloc::free,
        }));
    }
    let cli = awaitguard::cli::Cli::parse();
    std::process::exit(awaitguard::cli::run(cli));
}
