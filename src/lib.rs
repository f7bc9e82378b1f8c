//! qingdan (清单): a compliance checker for Chinese government service item lists.
//!
//! The pipeline, in stage order:
//! 1. [`corpus`]: list files → items with a span for every value; reference tables.
//! 2. [`syntax`]: `.qd` policy text → AST (pest stays inside this module).
//! 3. [`compile`]: AST → checked, lowered rules; every static error collected.
//! 4. [`eval`]: rules × items → findings, in parallel, deterministic.
//! 5. [`report`]: findings → human (miette), JSON and the other formats.

pub mod check;
pub mod cli;
pub mod compile;
pub mod corpus;
pub mod diag;
pub mod diff;
pub mod eval;
pub mod explain;
pub mod fix;
pub mod i18n;
pub mod import;
pub mod lists;
pub mod policy;
pub mod report;
pub mod source;
pub mod syntax;
pub mod timings;
