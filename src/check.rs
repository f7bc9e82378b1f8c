//! `qingdan check` over a corpus of any size: files are loaded, checked and dropped one at a time,
//! and only the cross-item indexes stay in memory (SPEC §10).
//!
//! **Phase 1** checks every file on its own, in parallel: every item rule runs, with `same_code`
//! answered within the file; chain rules do not run. A file leaves behind its findings, already
//! resolved for output ([`Diagnostic`]), its items' codes (hashed) and where each item and chain
//! is written — about 20 bytes per item.
//!
//! **Phase 2** deals with the items whose findings can depend on other files: items whose code
//! another item also uses (when an enabled rule calls `same_code`) and items a chain names, with
//! the chains (when a chain rule is enabled). Each is cut out of its file again at its line start
//! and parsed alone; together they form a small corpus on which the rules that look beyond an
//! item run again (`same_code`, chain rules, and `used`, which counts the waivers phase 1 found
//! used on the same items), and those rules' phase-1 findings on them are replaced; the other
//! rules' findings do not depend on other files and stand. Connected items (a chain and its
//! steps, items sharing a code) are always checked together, in batches of at most [`BATCH`]
//! pieces, so memory stays bounded whatever the corpus size. An item that cannot be parsed
//! alone (an alias to an anchor outside it, a flow sequence after non-ASCII text on its line) is
//! taken from its whole file instead.
//!
//! Reading an item again costs as much as loading it did. So when a chain rule is enabled, the
//! files that may hold chains (a byte search for the key at both ends of a file,
//! [`Discovery::may_hold_chains`]) are checked first; the other files then know which codes
//! chains name and keep those items, and every file keeps its chains, as phase 2 would have read
//! them, up to [`KEEP`] bytes of their text. A guess that misses a chain file, or a piece beyond the budget, only means the piece
//! is read again.
//!
//! A policy that uses `items` or `chains` as a value inside a rule needs every item at once: then
//! the corpus is loaded whole, as the other commands do.
//!
//! The result is the same as checking the whole corpus in memory, finding for finding and byte
//! for byte: `tests/streaming.rs` compares the two on the sample and generated corpora.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::compile::Program;
use crate::compile::scope::Scope;
use crate::compile::types::Field;
use crate::corpus::load::{LoadOptions, Loader};
use crate::corpus::model::{Chain, Item, ListFile, ListHeader};
use crate::corpus::piece::{Piece, cut, piece};
use crate::corpus::reference::References;
use crate::corpus::{self, Corpus, Discovery, Parts, yaml};
use crate::diag::{Problems, SourceError};
use crate::eval::value::Owner;
use crate::eval::{self, RunOptions};
use crate::report::{Diagnostic, Report, Shared, Sources, Summary};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::timings::{self, Phase};

/// Most pieces (items and chains) checked together in phase 2.
pub const BATCH: usize = 20_000;

/// What a check needs besides the corpus and the policy.
pub struct CheckOptions<'a> {
    pub run: &'a RunOptions,
    /// Work out the text edits of fixes (JSON and SARIF carry them).
    pub with_edits: bool,
    /// Texts to read instead of some files (spreadsheets imported in memory).
    pub overrides: &'a HashMap<PathBuf, String>,
    /// Called once per file loaded (a progress bar).
    pub tick: &'a (dyn Fn() + Sync),
    /// Most pieces checked together in phase 2 ([`BATCH`]; tests make it small).
    pub batch: usize,
    /// Most bytes of text of items and chains phase 1 keeps for phase 2 ([`KEEP`]; tests make
    /// it small).
    pub keep: usize,
}

impl<'a> CheckOptions<'a> {
    /// Options for a check without fix edits or progress, with the default sizes of phase 2.
    #[must_use]
    pub fn new(run: &'a RunOptions, overrides: &'a HashMap<PathBuf, String>) -> Self {
        CheckOptions { run, with_edits: false, overrides, tick: &|| {}, batch: BATCH, keep: KEEP }
    }
}

/// The outcome: the report (whose texts are read again when a format quotes them) and notes for
/// the user (files decoded from GB18030).
pub struct Checked<'a> {
    pub report: Report<'a>,
    pub notes: Vec<String>,
}

/// What phase 1 keeps of one file.
struct FileResult {
    diagnostics: Vec<Diagnostic>,
    items: usize,
    materials: usize,
    /// Per item, in order: its code's hash.
    codes: Vec<u64>,
    /// Per item, where it is written (empty when no cross-file rule is enabled).
    item_pieces: Vec<Piece>,
    /// Per chain: where it is written and the hashes of its steps' codes.
    chains: Vec<(Piece, Vec<u64>)>,
    /// The waivers that waive a finding of a rule phase 2 does not run again, by item (empty
    /// when no cross-file rule is enabled): phase 2 counts them as used.
    used: Vec<(Owner, u32)>,
    list: Option<ListFile>,
    note: Option<String>,
    /// Read as UTF-8 as written: phase 2 may read parts of it by their offsets.
    verbatim: bool,
    /// Chains, and items a chain names, kept as phase 2 would read them again.
    kept: FxHashMap<Node, Kept>,
}

type FileOutcome = Result<FileResult, Vec<SourceError>>;

/// Most bytes of text of items and chains phase 1 keeps for phase 2 (loaded, they take a few
/// times that): the pieces beyond it are read again.
pub const KEEP: usize = 32 << 20;

/// What phase 1 does on a file besides running the rules: what it notes for phase 2.
#[derive(Clone, Copy)]
struct Phase1<'k> {
    cross: Cross,
    /// The rules phase 2 runs again ([`reruns`]).
    rerun: &'k [bool],
    keep: Option<Keep<'k>>,
    shared: &'k Shared,
}

/// What phase 1 keeps for phase 2: every chain, and the items whose code a chain names (known
/// once the files that may hold chains have been checked), while the budget lasts.
#[derive(Clone, Copy)]
struct Keep<'k> {
    named: Option<&'k FxHashSet<u64>>,
    /// Bytes of text left to keep.
    budget: &'k AtomicUsize,
    unread: Unread,
}

impl Keep<'_> {
    /// Takes `size` bytes from the budget, if it has them.
    fn take(self, size: usize) -> bool {
        self.budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(size)).is_ok()
    }
}

/// The fields of an item that no rule phase 2 runs reads (`CompiledRule::fields_read`): an item
/// kept for phase 2 drops their values. The kept items are most of what phase 1 holds on to,
/// and memory the loading of the files after them then has to take fresh; the fields are those
/// that own text or lists (bases, notes, departments …).
#[derive(Clone, Copy, Default)]
struct Unread {
    item_basis: bool,
    department: bool,
    departments: bool,
    superior: bool,
    fee: bool,
    complex: bool,
    basis: bool,
    provider: bool,
    note: bool,
}

impl Unread {
    fn of(program: &Program, rerun: &[bool]) -> Unread {
        let read: HashSet<Field> =
            program.rules.iter().zip(rerun).filter(|(_, again)| **again).flat_map(|(r, _)| r.fields_read()).collect();
        let unread = |f: Field| !read.contains(&f);
        Unread {
            item_basis: unread(Field::ItemBasis),
            department: unread(Field::ItemDepartment),
            departments: unread(Field::ItemDepartments),
            superior: unread(Field::ItemSuperior),
            fee: unread(Field::ItemFee),
            complex: unread(Field::ItemComplex),
            basis: unread(Field::MatBasis),
            provider: unread(Field::MatProvider),
            note: unread(Field::MatNote),
        }
    }

    fn drop_from(self, it: &mut Item) {
        fn clear<T: Default>(unread: bool, v: &mut T) {
            if unread {
                *v = T::default();
            }
        }
        clear(self.item_basis, &mut it.basis);
        clear(self.department, &mut it.department);
        clear(self.departments, &mut it.departments);
        clear(self.superior, &mut it.superior);
        clear(self.fee, &mut it.fee);
        clear(self.complex, &mut it.complex);
        for m in &mut it.materials {
            clear(self.basis, &mut m.basis);
            clear(self.provider, &mut m.provider);
            clear(self.note, &mut m.note);
        }
    }
}

/// An item or a chain kept for phase 2 as [`load_piece`] would load it (its piece of text, its
/// spans counted from the piece), and where the piece starts in its file.
struct Kept {
    loaded: Loaded,
    base: u32,
}

/// Piece `p` of `src`, where a record is written, cut out, with the record's spans moved by
/// `spans` to count from the piece; `None` when phase 2 would read the record otherwise (text before it on its line that is not ASCII, a value written outside it by an
/// alias). A value outside it whose span is in `header` is one the item takes from its list's
/// header: it keeps the header's span, as the item loaded alone with the same header has it.
fn keep_piece(
    src: &SourceFile,
    header: &[Span],
    p: Piece,
    spans: impl FnOnce(&mut dyn FnMut(&mut Span)),
) -> Option<(SourceFile, u32)> {
    let frag = cut(src.name_arc(), src.text(), p)?;
    let len = u32::try_from(frag.text().len()).ok()?;
    let mut inside = true;
    spans(&mut |s| match (s.start.checked_sub(p.line_start), s.end.checked_sub(p.line_start)) {
        (Some(start), Some(end)) if end <= len => (s.start, s.end) = (start, end),
        _ => inside = inside && header.contains(s),
    });
    inside.then_some((frag, p.line_start))
}

/// Item `it`, written at piece `p` of file `src` whose header has the spans `header`, kept (see
/// [`keep_piece`]).
fn keep_item(src: &SourceFile, header: &[Span], p: Piece, it: Item, unread: Unread) -> Option<Kept> {
    let mut item = Box::new(it);
    unread.drop_from(&mut item);
    let (frag, base) = keep_piece(src, header, p, |f| item.for_each_span(f))?;
    Some(Kept { loaded: Loaded::Item(frag, item), base })
}

/// Chain `c`, written at piece `p` of file `src`, kept (see [`keep_piece`]).
fn keep_chain(src: &SourceFile, p: Piece, mut c: Chain) -> Option<Kept> {
    let (frag, base) = keep_piece(src, &[], p, |f| c.for_each_span(f))?;
    Some(Kept { loaded: Loaded::Chain(frag, c), base })
}

/// An item code's hash, for grouping the items of phase 2 by code. The fast hash: two codes that
/// hash alike only put their items in one group of phase 2, which checks them by their codes;
/// and it has no keys, so a code hashes alike in every run.
fn code_hash(code: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(code)
}

/// Checks the discovered corpus. Problems loading any file stop the run (exit code 2), after
/// every file has been read, so that all of them are reported together.
pub fn check<'a>(
    d: &'a Discovery,
    refs: &References,
    program: &'a Program,
    opts: &CheckOptions<'a>,
) -> Result<Checked<'a>, Problems> {
    let enabled = |i: usize| opts.run.levels.get(i).copied().flatten().is_some();
    let scopes: HashSet<Scope> =
        program.rules.iter().enumerate().filter(|(i, _)| enabled(*i)).map(|(_, r)| r.scope()).collect();
    if scopes.contains(&Scope::Corpus) {
        return check_whole(d, refs, program, opts);
    }
    let cross = Cross { same_code: scopes.contains(&Scope::SameCode), chains: scopes.contains(&Scope::Chain) };

    let rerun = reruns(program);
    let budget = AtomicUsize::new(opts.keep);
    let shared = Shared::new(program);
    let unread = Unread::of(program, &rerun);
    let one = |i: usize, named: Option<&FxHashSet<u64>>| -> FileOutcome {
        (opts.tick)();
        let keep = cross.chains.then_some(Keep { named, budget: &budget, unread });
        check_file(d, refs, program, opts, i, Phase1 { cross, rerun: &rerun, keep, shared: &shared })
    };
    // Files that may hold chains are checked first, so that the others know which of their
    // items chains name and keep them for phase 2 instead of reading them again. Each is checked
    // as soon as it is guessed to hold chains, while the other files are still being guessed,
    // not in a wave of its own after the guess (one file of chains kept one core busy and the
    // other idle).
    let mut outcomes: Vec<(usize, FileOutcome)> = Vec::new();
    let rest: Vec<usize> = if cross.chains && d.file_count() > 1 {
        let guessed: Vec<(usize, Option<FileOutcome>)> = timings::time(Phase::ChainGuess, || {
            (0..d.file_count())
                .into_par_iter()
                .map(|i| (i, d.may_hold_chains(i, opts.overrides).then(|| one(i, None))))
                .collect()
        });
        let mut rest = Vec::with_capacity(guessed.len());
        for (i, outcome) in guessed {
            match outcome {
                Some(o) => outcomes.push((i, o)),
                None => rest.push(i),
            }
        }
        rest
    } else {
        (0..d.file_count()).collect()
    };
    let named: FxHashSet<u64> = outcomes
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flat_map(|f| f.chains.iter().flat_map(|(_, steps)| steps.iter().copied()))
        .collect();
    outcomes.extend(rest.par_iter().map(|&i| (i, one(i, Some(&named)))).collect::<Vec<_>>());
    outcomes.sort_by_key(|(i, _)| *i);
    let mut files = corpus::all_or_problems(outcomes.into_iter().map(|(_, r)| r).collect())?;

    let mut summary = Summary { files: files.len(), ..Summary::default() };
    let mut notes = Vec::new();
    for f in &mut files {
        summary.items = summary.items.saturating_add(f.items);
        summary.materials = summary.materials.saturating_add(f.materials);
        notes.extend(f.note.take());
    }
    let workers = rayon::current_num_threads();
    let batches = timings::time(Phase::Plan, || plan(&files, cross, opts.batch.max(1), workers));
    // A national corpus has a million findings: their vector is sized once, not grown by doubling.
    let phase1: usize = files.iter().map(|f| f.diagnostics.len()).sum();
    let mut diagnostics: Vec<Diagnostic>;
    if batches.is_empty() {
        diagnostics = Vec::with_capacity(phase1);
        for f in &mut files {
            diagnostics.append(&mut f.diagnostics);
        }
    } else {
        let rerun_ids: HashSet<&str> =
            program.rules.iter().zip(&rerun).filter(|(_, again)| **again).map(|(r, _)| r.id.as_str()).collect();
        let replaced: FxHashSet<(u32, u32)> = batches
            .iter()
            .flatten()
            .filter_map(|n| match *n {
                Node::Item { file, item } => Some((file, item)),
                Node::Chain { .. } => None,
            })
            .collect();
        let later = timings::time(Phase::Phase2, || {
            // What phase 1 kept of each batch's pieces, taken out first: the batches are then
            // checked at once, and read the files' results only.
            let kept: Vec<Vec<Option<Kept>>> = batches
                .iter()
                .map(|b| b.iter().map(|n| files.get_mut(n.file() as usize).and_then(|f| f.kept.remove(n))).collect())
                .collect();
            let files: &[FileResult] = &files;
            let checked: Vec<Result<Vec<Diagnostic>, Problems>> = batches
                .par_iter()
                .zip(kept)
                .map(|(batch, kept)| check_batch(d, refs, program, opts, files, batch, kept, &rerun, &shared))
                .collect();
            // In batch order, and the first batch's problems as when they ran one after another.
            let mut later = Vec::new();
            for c in checked {
                later.extend(c?);
            }
            Ok::<_, Problems>(later)
        })?;
        diagnostics = timings::time(Phase::Merge, || {
            let runs = files.iter_mut().map(|f| std::mem::take(&mut f.diagnostics)).collect();
            let stands = |fi: usize, dg: &Diagnostic| {
                let fi = u32::try_from(fi).unwrap_or(u32::MAX);
                dg.item_index.is_none_or(|i| !replaced.contains(&(fi, i))) || !rerun_ids.contains(&*dg.rule)
            };
            merge(runs, stands, later, order)
        });
    }
    count(&mut summary, &diagnostics);
    let report =
        Report { sources: Sources::Reread { discovery: d, overrides: opts.overrides }, program, diagnostics, summary };
    Ok(Checked { report, notes })
}

/// Only loads the files (and drops them), counting what they hold: the baseline of the
/// benchmark that compares `check` with loading alone.
pub fn load_only(d: &Discovery, refs: &References, opts: &CheckOptions<'_>) -> Result<Summary, Problems> {
    let counts = corpus::all_or_problems(
        (0..d.file_count())
            .into_par_iter()
            .map(|i| {
                (opts.tick)();
                let c = timings::time(Phase::Load, || d.load_alone(i, refs, opts.overrides))?;
                let counts = (c.items.len(), c.material_count());
                timings::time(Phase::Release, || c.release());
                Ok(counts)
            })
            .collect(),
    )?;
    let mut summary = Summary { files: counts.len(), ..Summary::default() };
    for (items, materials) in counts {
        summary.items = summary.items.saturating_add(items);
        summary.materials = summary.materials.saturating_add(materials);
    }
    Ok(summary)
}

/// Which cross-file rules are enabled.
#[derive(Debug, Clone, Copy)]
struct Cross {
    same_code: bool,
    chains: bool,
}

/// The rules phase 2 runs again: those that look beyond the item (`same_code`, chains) and those
/// that need the others' outcome (`used`). The others' findings on an item do not depend on other
/// files: phase 1's stand.
fn reruns(program: &Program) -> Vec<bool> {
    program.rules.iter().map(|r| r.second_phase || matches!(r.scope(), Scope::SameCode | Scope::Chain)).collect()
}

impl Cross {
    fn any(self) -> bool {
        self.same_code || self.chains
    }
}

fn check_file(
    d: &Discovery,
    refs: &References,
    program: &Program,
    opts: &CheckOptions<'_>,
    index: usize,
    Phase1 { cross, rerun, keep, shared }: Phase1<'_>,
) -> FileOutcome {
    let mut corpus = timings::time(Phase::Load, || d.load_alone(index, refs, opts.overrides))?;
    // Chains name items of other files: they are checked in phase 2.
    let chains = std::mem::take(&mut corpus.chains);
    let findings = timings::time(Phase::Rules, || eval::run(program, &corpus, refs, opts.run));
    let used = if cross.any() {
        let mut used: Vec<(Owner, u32)> = findings
            .iter()
            .filter(|f| !rerun.get(f.rule).copied().unwrap_or(true))
            .filter_map(|f| f.waived_by)
            .collect();
        used.sort_unstable();
        used.dedup();
        used
    } else {
        Vec::new()
    };
    let report =
        timings::time(Phase::Reports, || Report::sharing(&corpus, refs, program, &findings, opts.with_edits, shared));
    let keep_start = timings::on().then(std::time::Instant::now);
    let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
    let mut diagnostics = report.diagnostics;
    for dg in &mut diagnostics {
        dg.span.file = file;
    }
    let src = corpus.sources.get(FileId(0));
    let (item_pieces, chain_pieces) = match src.filter(|_| cross.any()) {
        Some(src) => (
            corpus.items.iter().map(|it| piece(src, it.span)).collect(),
            chains
                .iter()
                .map(|c| (piece(src, c.span), c.steps.iter().map(|s| code_hash(&s.value)).collect()))
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let codes: Vec<u64> = corpus.items.iter().map(|it| code_hash(&it.code.value)).collect();
    let materials = corpus.material_count();
    let mut kept = FxHashMap::default();
    if let (Some(k), Some(src)) = (keep, src) {
        let file = u32::try_from(index).unwrap_or(u32::MAX);
        let mut put = |node: Node, piece: Kept| {
            let size = match &piece.loaded {
                Loaded::Item(frag, _) | Loaded::Chain(frag, _) => frag.text().len(),
            };
            let room = k.take(size);
            if room {
                kept.insert(node, piece);
            }
            room
        };
        // The pieces were found above for phase 2's plan.
        for (ci, (c, (p, _))) in chains.into_iter().zip(&chain_pieces).enumerate() {
            let (Some(piece), Ok(chain)) = (keep_chain(src, *p, c), u32::try_from(ci)) else { continue };
            if !put(Node::Chain { file, chain }, piece) {
                break;
            }
        }
        let header: Vec<Span> = corpus.lists.first().map(|l| header_spans(&l.header)).unwrap_or_default();
        // The items kept are moved out of the corpus, which is released next: not copied.
        for (ii, ((it, h), p)) in corpus.items.iter_mut().zip(&codes).zip(&item_pieces).enumerate() {
            if !k.named.is_some_and(|named| named.contains(h)) {
                continue;
            }
            let it = std::mem::take(it);
            let (Some(piece), Ok(item)) = (keep_item(src, &header, *p, it, k.unread), u32::try_from(ii)) else {
                continue;
            };
            if !put(Node::Item { file, item }, piece) {
                break;
            }
        }
    }
    let result = FileResult {
        diagnostics,
        items: codes.len(),
        materials,
        codes,
        item_pieces,
        chains: chain_pieces,
        used,
        list: std::mem::take(&mut corpus.lists).into_iter().next(),
        verbatim: corpus.notes.is_empty(),
        note: std::mem::take(&mut corpus.notes).into_iter().next(),
        kept,
    };
    if let Some(start) = keep_start {
        timings::add(Phase::Keep, start.elapsed());
    }
    timings::time(Phase::Release, || corpus.release());
    Ok(result)
}

/// The spans of a list header's values, which items without their own take (see [`keep_piece`]).
fn header_spans(h: &ListHeader) -> Vec<Span> {
    let text = [&h.title, &h.region, &h.department, &h.version];
    text.into_iter().flatten().map(|v| v.span).chain(h.level.as_ref().map(|v| v.span)).collect()
}

/// A piece checked in phase 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Node {
    Item { file: u32, item: u32 },
    Chain { file: u32, chain: u32 },
}

impl Node {
    fn file(self) -> u32 {
        match self {
            Node::Item { file, .. } | Node::Chain { file, .. } => file,
        }
    }
}

/// The fewest pieces worth a phase-2 batch of their own when the pieces are shared out among
/// the workers: a batch is a corpus to assemble and report on, which costs a little at any size.
const MIN_SHARE: usize = 256;

/// The pieces phase 2 must check, grouped into batches of connected pieces: at most `batch`
/// pieces each, and about one per worker (of `workers`) when there are enough pieces, as the
/// batches are checked at once and each is assembled and reported on by one thread.
fn plan(files: &[FileResult], cross: Cross, batch: usize, workers: usize) -> Vec<Vec<Node>> {
    if !cross.any() {
        return Vec::new();
    }
    // The codes written in more than one file. Items that share a code within one file only
    // were checked completely in phase 1, which saw all of them.
    // Keys are hashes already, or small numbers: the fast hasher, not the one that resists
    // chosen keys.
    // Sized once: a corpus's codes are nearly all distinct, and growing the map by doubling
    // hashes them all again at every step.
    let codes: usize = files.iter().map(|f| f.codes.len()).sum();
    let mut first_file: FxHashMap<u64, usize> = FxHashMap::with_capacity_and_hasher(codes, Default::default());
    let mut across: FxHashSet<u64> = FxHashSet::default();
    for (fi, f) in files.iter().enumerate() {
        for &h in &f.codes {
            if *first_file.entry(h).or_insert(fi) != fi {
                across.insert(h);
            }
        }
    }
    let named: FxHashSet<u64> = if cross.chains {
        files.iter().flat_map(|f| f.chains.iter().flat_map(|(_, steps)| steps.iter().copied())).collect()
    } else {
        FxHashSet::default()
    };
    // Union-find over the pieces: items with one code, and a chain with the items it names.
    let mut nodes: Vec<Node> = Vec::new();
    let mut by_code: FxHashMap<u64, usize> = FxHashMap::default();
    let mut parent: Vec<usize> = Vec::new();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while let Some(&p) = parent.get(x) {
            if p == x {
                break;
            }
            let gp = parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = parent.get_mut(x) {
                *slot = gp;
            }
            x = p;
        }
        x
    }
    fn union(parent: &mut [usize], a: usize, b: usize) {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb
            && let Some(slot) = parent.get_mut(ra.max(rb))
        {
            *slot = ra.min(rb);
        }
    }
    for (fi, f) in files.iter().enumerate() {
        let file = u32::try_from(fi).unwrap_or(u32::MAX);
        for (ii, &h) in f.codes.iter().enumerate() {
            let shared = cross.same_code && across.contains(&h);
            if !(shared || named.contains(&h)) {
                continue;
            }
            let id = nodes.len();
            nodes.push(Node::Item { file, item: u32::try_from(ii).unwrap_or(u32::MAX) });
            parent.push(id);
            // Items sharing a code stay together even for chain rules alone: a step names the
            // first item with its code.
            match by_code.get(&h) {
                Some(&first) => union(&mut parent, first, id),
                None => {
                    by_code.insert(h, id);
                }
            }
        }
    }
    if cross.chains {
        for (fi, f) in files.iter().enumerate() {
            let file = u32::try_from(fi).unwrap_or(u32::MAX);
            for (ci, (_, steps)) in f.chains.iter().enumerate() {
                let id = nodes.len();
                nodes.push(Node::Chain { file, chain: u32::try_from(ci).unwrap_or(u32::MAX) });
                parent.push(id);
                for h in steps {
                    if let Some(&item) = by_code.get(h) {
                        union(&mut parent, item, id);
                    }
                }
            }
        }
    }
    // Components in order of their first piece; batches of whole components.
    let mut components: FxHashMap<usize, Vec<Node>> = FxHashMap::default();
    for (id, &n) in nodes.iter().enumerate() {
        components.entry(find(&mut parent, id)).or_default().push(n);
    }
    let mut components: Vec<Vec<Node>> = components.into_values().collect();
    components.sort_by_key(|c| c.iter().min().copied());
    let batch = batch.min(nodes.len().div_ceil(workers.max(1)).max(MIN_SHARE));
    let mut batches: Vec<Vec<Node>> = Vec::new();
    for c in components {
        match batches.last_mut() {
            Some(b) if b.len().saturating_add(c.len()) <= batch => b.extend(c),
            _ => batches.push(c),
        }
    }
    for b in &mut batches {
        b.sort();
    }
    batches
}

/// One piece loaded alone: its text as a file of its own, and the item or chain.
enum Loaded {
    Item(SourceFile, Box<Item>),
    Chain(SourceFile, Chain),
}

/// The pieces of one file, loaded: (position in the batch, piece, offset of the piece's text in
/// its file).
type FilePieces = Result<Vec<(usize, Loaded, u32)>, Vec<SourceError>>;

/// Loads piece `node` of file `name` (text `text`, list `list`) as file `id` of the phase-2
/// corpus.
#[allow(clippy::too_many_arguments, reason = "one piece and where it comes from")]
fn load_piece(
    name: &str,
    text: &str,
    refs: &References,
    list: &ListFile,
    p: Piece,
    node: Node,
    id: FileId,
    code: Option<u64>,
) -> Option<Loaded> {
    let frag = cut(name, text, p)?;
    let root = yaml::parse(&frag, id, yaml::Limits::default()).ok().flatten()?;
    let loader = Loader::new(&frag, &refs.registry, id.0, LoadOptions::default());
    match node {
        Node::Item { .. } => {
            let item = loader.item_fragment(root, &list.header).ok()?;
            // The piece must be the item it was in its file.
            (Some(code_hash(&item.code.value)) == code && item.span.start == p.start.saturating_sub(p.line_start))
                .then(|| Loaded::Item(frag, Box::new(item)))
        }
        Node::Chain { .. } => loader.chain_fragment(root).ok().map(|c| Loaded::Chain(frag, c)),
    }
}

/// A piece of a batch: its position, what it is, and the item if phase 1 kept it.
type Pending = (usize, Node, Option<Kept>);

/// Phase 2 for one batch: its pieces form a corpus of their own, checked with the rules that
/// look beyond an item (`rerun`), whose findings replace phase 1's on the same items.
#[allow(clippy::too_many_arguments, reason = "the run's settings, and one batch")]
fn check_batch(
    d: &Discovery,
    refs: &References,
    program: &Program,
    opts: &CheckOptions<'_>,
    files: &[FileResult],
    batch: &[Node],
    kept: Vec<Option<Kept>>,
    rerun: &[bool],
    shared: &Shared,
) -> Result<Vec<Diagnostic>, Problems> {
    // The files of the batch, each read once (in parallel); pieces keep the batch's order.
    // Items phase 1 kept (`kept`, by piece) are not read again.
    let mut by_file: Vec<(u32, Vec<Pending>)> = Vec::new();
    for ((k, &n), kept) in batch.iter().enumerate().zip(kept) {
        match by_file.last_mut() {
            Some((f, v)) if *f == n.file() => v.push((k, n, kept)),
            _ => by_file.push((n.file(), vec![(k, n, kept)])),
        }
    }
    let loaded: Vec<FilePieces> = by_file
        .into_par_iter()
        .map(|(fi, nodes)| {
            let Some((f, list)) = files.get(fi as usize).and_then(|f| Some((f, f.list.as_ref()?))) else {
                return Ok(Vec::new());
            };
            let mut out = Vec::with_capacity(nodes.len());
            let mut rest = Vec::with_capacity(nodes.len());
            for (k, n, kept) in nodes {
                match kept {
                    Some(kept) => out.push((k, kept.loaded, kept.base)),
                    None => rest.push((k, n)),
                }
            }
            if rest.is_empty() {
                return Ok(out);
            }
            // Each piece read alone where the file allows it, else from the whole text, read once.
            let mut parts = f.verbatim.then(|| d.open_parts(fi as usize, opts.overrides)).flatten();
            let mut text: Option<(String, Arc<str>)> = None;
            let mut whole: Option<Corpus> = None;
            for (k, n) in rest {
                let id = FileId(u32::try_from(k).unwrap_or(u32::MAX));
                let (p, code) = match n {
                    Node::Item { item, .. } => {
                        (f.item_pieces.get(item as usize).copied(), f.codes.get(item as usize).copied())
                    }
                    Node::Chain { chain, .. } => (f.chains.get(chain as usize).map(|(p, _)| *p), None),
                };
                let alone = |parts: &mut Parts, p: Piece| {
                    let part = parts.text(p.line_start, p.end)?;
                    load_piece(&parts.name, &part, refs, list, p.within_line(), n, id, code)
                };
                let mut piece = p.zip(parts.as_mut()).and_then(|(p, parts)| Some((alone(parts, p)?, p.line_start)));
                if piece.is_none()
                    && let Some(p) = p
                {
                    if text.is_none() {
                        text = Some(d.read_text(fi as usize, opts.overrides).map_err(|e| vec![e])?);
                    }
                    piece = text
                        .as_ref()
                        .and_then(|(name, text)| load_piece(name, text, refs, list, p, n, id, code))
                        .map(|l| (l, p.line_start));
                }
                let (l, base) = match piece {
                    Some(x) => x,
                    // Not parseable alone: take it from the whole file, parsed once.
                    None => {
                        if whole.is_none() {
                            whole = Some(d.load_alone(fi as usize, refs, opts.overrides)?);
                        }
                        let Some(w) = whole.as_ref() else { continue };
                        let Some(wsrc) = w.sources.get(FileId(0)).cloned() else { continue };
                        let l = match n {
                            Node::Item { item, .. } => {
                                let Some(mut it) = w.items.get(item as usize).cloned() else { continue };
                                relocate_item(&mut it, id);
                                Loaded::Item(wsrc, Box::new(it))
                            }
                            Node::Chain { chain, .. } => {
                                let Some(mut c) = w.chains.get(chain as usize).cloned() else { continue };
                                relocate_chain(&mut c, id);
                                Loaded::Chain(wsrc, c)
                            }
                        };
                        (l, 0)
                    }
                };
                out.push((k, l, base));
            }
            Ok(out)
        })
        .collect();
    let mut sources = Vec::with_capacity(batch.len());
    let mut lists = Vec::with_capacity(batch.len());
    let mut used = HashSet::new();
    // Per phase-2 file: (file in the corpus, its offset there, the item's index in its file).
    let mut origin: Vec<(FileId, u32, Option<u32>)> = Vec::with_capacity(batch.len());
    let mut pieces: Vec<(usize, Loaded, u32)> = corpus::all_or_problems(loaded)?.into_iter().flatten().collect();
    pieces.sort_by_key(|(k, _, _)| *k);
    // Sized once: items are large, and a vector of them grown by doubling copies them and
    // takes fresh pages at every step.
    let item_count = pieces.iter().filter(|(_, l, _)| matches!(l, Loaded::Item(..))).count();
    let mut items = Vec::with_capacity(item_count);
    let mut chains = Vec::with_capacity(pieces.len().saturating_sub(item_count));
    for (k, l, base) in pieces {
        let Some(&n) = batch.get(k) else { continue };
        let id = FileId(u32::try_from(sources.len()).unwrap_or(u32::MAX));
        let Some(mut list) = files.get(n.file() as usize).and_then(|f| f.list.clone()) else { continue };
        list.file = id;
        lists.push(list);
        let item_index = match n {
            Node::Item { item, .. } => Some(item),
            Node::Chain { .. } => None,
        };
        origin.push((FileId(n.file()), base, item_index));
        match l {
            Loaded::Item(src, mut it) => {
                relocate_item(&mut it, id);
                sources.push(src);
                // The waivers phase 1 found used on this item.
                if let (Some(f), Some(ii), Ok(k)) =
                    (files.get(n.file() as usize), item_index, u32::try_from(items.len()))
                {
                    let from = f.used.partition_point(|(o, _)| o.item < ii);
                    let of_item = f.used.get(from..).unwrap_or_default().iter().take_while(|(o, _)| o.item == ii);
                    used.extend(of_item.map(|&(o, w)| (Owner { item: k, ..o }, w)));
                }
                items.push(*it);
            }
            Loaded::Chain(src, mut c) => {
                relocate_chain(&mut c, id);
                sources.push(src);
                chains.push(c);
            }
        }
    }
    let corpus = Corpus::from_parts(SourceMap::from_files(sources), lists, items, chains);
    let again = |r: usize| rerun.get(r).copied().unwrap_or(true);
    let findings = eval::run_part(program, &corpus, refs, opts.run, &again, &used);
    let report = Report::sharing(&corpus, refs, program, &findings, opts.with_edits, shared);
    let mut out = report.diagnostics;
    for dg in &mut out {
        let Some(&(file, base, item_index)) = origin.get(dg.span.file.0 as usize) else { continue };
        dg.span = Span { file, start: dg.span.start.saturating_add(base), end: dg.span.end.saturating_add(base) };
        // Findings on the item of this piece replace its phase-1 findings.
        dg.item_index = item_index;
    }
    // Freeing a batch's items (thousands of them, each with its materials) takes milliseconds
    // that nothing else waits on: done by a pool thread while the check goes on.
    drop(findings);
    rayon::spawn(move || drop(corpus));
    Ok(out)
}

/// Moves an item to file `id` of the phase-2 corpus (its list is that file's list).
fn relocate_item(it: &mut Item, id: FileId) {
    it.list = id.0;
    it.relocate(id);
}

fn relocate_chain(c: &mut Chain, id: FileId) {
    c.list = id.0;
    c.relocate(id);
}

/// The elements of `runs` that `stands` keeps (told the run's index), run after run, then
/// `later`, in the order a stable sort by `cmp` gives them. Phase 1's findings are in that order
/// already (each file's as the evaluator ordered them, file after file): then the few of phase 2,
/// sorted, are merged in as the runs are moved into the result, which is written once; equal
/// elements keep the runs' before `later`'s, as the stable sort of the one after the other does.
/// Runs out of order are sorted with the rest.
fn merge<T>(
    runs: Vec<Vec<T>>,
    stands: impl Fn(usize, &T) -> bool,
    mut later: Vec<T>,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Vec<T> {
    let le = |a: &T, b: &T| cmp(a, b).is_le();
    let mut in_order = true;
    let mut last: Option<&T> = None;
    for run in runs.iter().filter(|r| !r.is_empty()) {
        in_order = in_order && run.is_sorted_by(le) && last.zip(run.first()).is_none_or(|(a, b)| le(a, b));
        last = run.last();
    }
    let size = runs.iter().map(Vec::len).sum::<usize>().saturating_add(later.len());
    let mut out = Vec::with_capacity(size);
    let stands = &stands;
    let kept = runs.into_iter().enumerate().flat_map(|(i, run)| run.into_iter().filter(move |x| stands(i, x)));
    if !in_order {
        out.extend(kept);
        out.append(&mut later);
        sort_in_place(&mut out, cmp);
        return out;
    }
    sort_in_place(&mut later, &cmp);
    let mut later = later.into_iter().peekable();
    for x in kept {
        while let Some(y) = later.next_if(|y| cmp(y, &x).is_lt()) {
            out.push(y);
        }
        out.push(x);
    }
    out.extend(later);
    out
}

/// A stable sort that works the order out on indexes and applies it by swapping, so that sorting
/// a million findings takes a few megabytes, not the half-copy of them that a stable sort of the
/// findings themselves allocates.
fn sort_in_place<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    let Ok(n) = u32::try_from(v.len()) else {
        v.sort_by(cmp);
        return;
    };
    let mut perm: Vec<u32> = (0..n).collect();
    perm.sort_by(|&a, &b| match (v.get(a as usize), v.get(b as usize)) {
        (Some(x), Some(y)) => cmp(x, y),
        _ => a.cmp(&b),
    });
    // Position `i` takes the element at `perm[i]`: follow each cycle once, marking it done.
    for start in 0..perm.len() {
        let mut at = start;
        while let Some(&from) = perm.get(at) {
            if let Some(slot) = perm.get_mut(at) {
                *slot = u32::try_from(at).unwrap_or(u32::MAX);
            }
            let from = from as usize;
            if from == start || from == at || from >= v.len() {
                break;
            }
            v.swap(at, from);
            at = from;
        }
    }
}

/// Orders findings as the evaluator does: by file, position, rule and message.
fn order(a: &Diagnostic, b: &Diagnostic) -> std::cmp::Ordering {
    (a.span.file, a.span.start, &a.rule, &a.message, a.span.end).cmp(&(
        b.span.file,
        b.span.start,
        &b.rule,
        &b.message,
        b.span.end,
    ))
}

/// Counts the findings for the summary.
fn count(summary: &mut Summary, diagnostics: &[Diagnostic]) {
    for dg in diagnostics {
        if dg.waived {
            summary.waived = summary.waived.saturating_add(1);
            continue;
        }
        match dg.level {
            corpus::config::Level::Error => summary.errors = summary.errors.saturating_add(1),
            corpus::config::Level::Warning => summary.warnings = summary.warnings.saturating_add(1),
            corpus::config::Level::Info => summary.infos = summary.infos.saturating_add(1),
        }
        let n = summary.by_rule.entry(dg.rule.to_string()).or_default();
        *n = n.saturating_add(1);
    }
}

/// The whole corpus in memory, for policies that need it.
fn check_whole<'a>(
    d: &'a Discovery,
    refs: &References,
    program: &'a Program,
    opts: &CheckOptions<'a>,
) -> Result<Checked<'a>, Problems> {
    let corpus = corpus::load_with_overrides(d, refs, opts.tick, opts.overrides)?;
    let findings = eval::run(program, &corpus, refs, opts.run);
    let report = Report::with_edits(&corpus, refs, program, &findings, opts.with_edits);
    let report = Report {
        sources: Sources::Reread { discovery: d, overrides: opts.overrides },
        program,
        diagnostics: report.diagnostics,
        summary: report.summary,
    };
    Ok(Checked { report, notes: corpus.notes })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may fail loudly")]

    use std::collections::HashMap;
    use std::path::PathBuf;

    use rustc_hash::FxHashMap;

    use super::{
        BATCH, Cross, FileResult, Loaded, MIN_SHARE, Node, Unread, code_hash, header_spans, keep_chain, keep_item,
        load_piece, merge, plan, reruns, sort_in_place,
    };
    use crate::corpus::config::PolicySource;
    use crate::corpus::piece::Piece;
    use crate::corpus::{self, piece::piece};
    use crate::source::FileId;

    /// An item or chain phase 1 keeps is the one phase 2 would load from its piece, with the
    /// same text, less the fields no rule phase 2 runs reads; the items phase 2 cannot load
    /// alone (an alias to another item's anchor, flow style after a Chinese key) are not kept.
    #[test]
    fn kept_items_and_chains_are_those_loaded_from_their_pieces() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let d = corpus::discover(&[root.join("tests/fixtures/streaming"), root.join("corpus")], None).unwrap();
        let refs = corpus::references(&d).unwrap();
        let program = crate::policy::load(&[PolicySource::Builtin], &refs).unwrap();
        let unread = Unread::of(&program, &reruns(&program));
        let (mut dropped, mut sure) = (0, Unread::default());
        sure.note = true;
        let (mut kept, mut not, mut chains) = (0, 0, 0);
        for i in 0..d.file_count() {
            let c = d.load_alone(i, &refs, &HashMap::new()).unwrap();
            let (src, list) = (c.sources.get(FileId(0)).unwrap(), c.lists.first().unwrap());
            let header = header_spans(&list.header);
            for (ci, chain) in c.chains.iter().enumerate() {
                let p = piece(src, chain.span);
                let node = Node::Chain { file: 0, chain: u32::try_from(ci).unwrap() };
                let alone = load_piece(src.name(), src.text(), &refs, list, p, node, FileId(0), None);
                match (keep_chain(src, p, chain.clone()).map(|k| (k.loaded, k.base)), alone) {
                    (Some((Loaded::Chain(kfrag, kc), base)), Some(Loaded::Chain(frag, c))) => {
                        assert_eq!(
                            (kfrag.text(), format!("{kc:?}"), base),
                            (frag.text(), format!("{c:?}"), p.line_start)
                        );
                        chains += 1;
                    }
                    (None, None) => {}
                    (k, _) => {
                        panic!("{} {}: kept {}, loaded alone the other way", src.name(), chain.name.value, k.is_some())
                    }
                }
            }
            for (ii, it) in c.items.iter().enumerate() {
                let p = piece(src, it.span);
                let node = Node::Item { file: 0, item: u32::try_from(ii).unwrap() };
                let alone = load_piece(
                    src.name(),
                    src.text(),
                    &refs,
                    list,
                    p,
                    node,
                    FileId(0),
                    Some(code_hash(&it.code.value)),
                );
                let whole = keep_item(src, &header, p, it.clone(), Unread::default());
                let less = keep_item(src, &header, p, it.clone(), unread).map(|k| k.loaded);
                match (whole.map(|k| (k.loaded, k.base)), alone) {
                    (Some((Loaded::Item(kfrag, kitem), base)), Some(Loaded::Item(frag, mut item))) => {
                        assert_eq!(kfrag.text(), frag.text(), "{} {}", src.name(), it.code.value);
                        assert_eq!(format!("{kitem:?}"), format!("{item:?}"), "{} {}", src.name(), it.code.value);
                        assert_eq!(base, p.line_start);
                        kept += 1;
                        let Some(Loaded::Item(_, less)) = less else { panic!("{} kept whole only", it.code.value) };
                        let noted = item.materials.iter().any(|m| m.note.is_some());
                        unread.drop_from(&mut item);
                        assert_eq!(format!("{less:?}"), format!("{item:?}"), "{} {}", src.name(), it.code.value);
                        if noted && format!("{less:?}") != format!("{kitem:?}") {
                            dropped += 1;
                        }
                        sure.drop_from(&mut item);
                        assert!(item.materials.iter().all(|m| m.note.is_none()));
                    }
                    (None, None) => not += 1,
                    (k, _) => {
                        panic!("{} {}: kept {}, loaded alone the other way", src.name(), it.code.value, k.is_some())
                    }
                }
            }
        }
        assert!(kept > 20 && not >= 3, "kept {kept}, not kept {not}");
        assert!(chains > 3, "{chains} chains");
        assert!(dropped > 5, "{dropped} items kept with less");
    }

    /// A field is dropped from kept items only when no rule phase 2 runs reads it, by name or
    /// through `citations`; the rules phase 1 alone runs do not count.
    #[test]
    fn kept_items_drop_only_what_no_rule_run_again_reads() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let d = corpus::discover(&[root.join("corpus")], None).unwrap();
        let refs = corpus::references(&d).unwrap();
        let builtin = crate::policy::load(&[PolicySource::Builtin], &refs).unwrap();
        let u = Unread::of(&builtin, &reruns(&builtin));
        // The built-in rules run again (QD108, QD302, QD902) read none of them, though QD102
        // (phase 1 only) reads notes and QD101 bases.
        assert!(u.item_basis && u.department && u.departments && u.superior && u.fee && u.complex);
        assert!(u.basis && u.provider && u.note);
        let dir = tempfile::tempdir().unwrap();
        let rule = |id: &str, reads: &str, fail: &str| {
            let example = |item: &str| {
                format!("{{items: [{{code: \"A-1\", name: 甲{item}}}], chains: [{{name: 链, steps: [\"A-1\"]}}]}}")
            };
            format!(
                "rule {id} reads-{} {{\n  title zh \"甲\" en \"a\"\n  severity info\n  cites xzxkf.第三十条 \"在办公场所公示\"\n  for c in chains\n  for s in c.steps\n  when exists(s.item)\n  when {reads}\n  at c.name\n  message zh \"甲\" en \"a\"\n  help zh \"乙\" en \"b\"\n  example fail {}\n  example pass {}\n}}\n",
                id.to_lowercase(),
                example(fail),
                example(""),
            )
        };
        let note =
            rule("QX001", "any(m in s.item.materials where exists(m.note))", ", materials: [{name: 表, note: 注}]");
        let basis = rule("QX002", "count(citations(s.item)) > 0", ", basis: [行政许可法 第三十条]");
        std::fs::write(dir.path().join("QX1.qd"), note).unwrap();
        std::fs::write(dir.path().join("QX2.qd"), basis).unwrap();
        let local = crate::policy::load(&[PolicySource::Dir(dir.path().to_path_buf())], &refs).unwrap();
        let u = Unread::of(&local, &reruns(&local));
        assert!(!u.note && !u.basis && !u.item_basis, "read by QX001 and QX002");
        assert!(u.provider && u.fee && u.department);
        // The same rules, not run again, read nothing phase 2 needs.
        let u = Unread::of(&local, &vec![false; local.rules.len()]);
        assert!(u.note && u.basis && u.item_basis);
    }

    /// Pseudo-random numbers from `seed` (a linear congruential generator: the same every run).
    fn numbers(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        }
    }

    /// The same order as the standard stable sort, ties kept in their order, for every
    /// permutation shape: sorted, reversed, long cycles, fixed points, many equal keys.
    #[test]
    fn sorting_in_place_is_the_stable_sort() {
        let mut next = numbers(7);
        for n in [0usize, 1, 2, 3, 10, 257, 5_000] {
            for keys in [2u64, 10, 1_000_000] {
                let mut v: Vec<(u64, usize)> = (0..n).map(|i| (next() % keys, i)).collect();
                if keys == 2 {
                    v.reverse();
                }
                let mut expected = v.clone();
                expected.sort_by_key(|a| a.0);
                sort_in_place(&mut v, |a, b| a.0.cmp(&b.0));
                assert_eq!(v, expected, "n {n}, keys {keys}");
            }
        }
    }

    /// Merging gives what the stable sort of the runs' kept elements and then `later` gives,
    /// ties in that order, whether the runs are each in order or not, and in order across runs
    /// or not.
    #[test]
    fn merging_sorted_runs_is_the_stable_sort() {
        let mut next = numbers(11);
        for (n, m) in [(0usize, 0usize), (0, 5), (5, 0), (1, 1), (300, 7), (7, 300), (2_000, 2_000)] {
            for keys in [3u64, 1_000] {
                for sorted in [true, false] {
                    let mut run = |len: usize, tag: usize| -> Vec<(u64, usize)> {
                        let mut v: Vec<(u64, usize)> = (0..len).map(|i| (next() % keys, tag * 10_000 + i)).collect();
                        if sorted {
                            v.sort_by_key(|a| a.0);
                        }
                        v
                    };
                    let (mut a, b) = (run(n, 1), run(m, 2));
                    // Split into runs at a key boundary (in order across runs) or anywhere.
                    for across in [true, false] {
                        let cut = if across { a.partition_point(|x| x.0 < keys / 2) } else { n / 3 };
                        let tail = a.split_off(cut.min(a.len()));
                        let runs = vec![a.clone(), Vec::new(), tail.clone()];
                        a.extend(tail);
                        let stands = |i: usize, x: &(u64, usize)| i != 2 || !x.1.is_multiple_of(5);
                        let mut expected: Vec<(u64, usize)> = runs
                            .iter()
                            .enumerate()
                            .flat_map(|(i, r)| r.iter().filter(move |x| stands(i, x)))
                            .chain(&b)
                            .copied()
                            .collect();
                        expected.sort_by_key(|x| x.0);
                        let merged = merge(runs, stands, b.clone(), |x, y| x.0.cmp(&y.0));
                        assert_eq!(merged, expected, "{n} + {m}, keys {keys}, sorted {sorted}, across {across}");
                    }
                }
            }
        }
    }

    /// What phase 1 noted of a file whose items have the codes `codes` and whose chains name
    /// the codes `chains`.
    fn noted(codes: &[u64], chains: &[Vec<u64>]) -> FileResult {
        let at = Piece { line_start: 0, start: 0, end: 0, line: 1 };
        FileResult {
            diagnostics: Vec::new(),
            items: codes.len(),
            materials: 0,
            codes: codes.to_vec(),
            item_pieces: vec![at; codes.len()],
            chains: chains.iter().map(|steps| (at, steps.clone())).collect(),
            used: Vec::new(),
            list: None,
            note: None,
            verbatim: true,
            kept: FxHashMap::default(),
        }
    }

    /// Phase 2's batches hold whole groups of connected pieces, at most the batch size, about
    /// one per worker when there are enough pieces (they are checked at once), and one when
    /// there are few.
    #[test]
    fn phase_two_shares_whole_groups_out_among_the_workers() {
        // 300 chains over three items each (items 0..900 of the first file), and one code
        // written in both files: 300 groups of four pieces and one of two.
        let chains: Vec<Vec<u64>> = (0..300u64).map(|c| vec![3 * c, 3 * c + 1, 3 * c + 2]).collect();
        let files = [noted(&(0..900).collect::<Vec<u64>>(), &[]), noted(&[5000], &chains), noted(&[5000], &[])];
        let cross = Cross { same_code: true, chains: true };
        let whole_groups = |batches: &[Vec<Node>]| {
            for b in batches {
                for n in b {
                    if let Node::Chain { chain, .. } = *n {
                        for step in 0..3 {
                            let item = Node::Item { file: 0, item: chain * 3 + step };
                            assert!(b.contains(&item), "{n:?} and {item:?} in different batches");
                        }
                    }
                }
            }
        };
        let sizes = |batches: &[Vec<Node>]| batches.iter().map(Vec::len).collect::<Vec<_>>();
        // A batch is filled up to a worker's share (at least MIN_SHARE pieces) with whole groups.
        assert_eq!(MIN_SHARE, 256);
        for (workers, expected) in
            [(1, vec![1202]), (2, vec![600, 600, 2]), (3, vec![400, 400, 400, 2]), (8, vec![256, 256, 256, 256, 178])]
        {
            let batches = plan(&files, cross, BATCH, workers);
            whole_groups(&batches);
            assert_eq!(sizes(&batches), expected, "{workers} workers");
        }
        // The batch size still bounds every batch; few pieces make one batch.
        let small = plan(&files, cross, 100, 2);
        whole_groups(&small);
        assert!(small.iter().all(|b| b.len() <= 100), "{:?}", sizes(&small));
        let few = [noted(&[1, 2, 3], &[]), noted(&[], &[vec![1, 2, 3]])];
        assert_eq!(sizes(&plan(&few, cross, BATCH, 2)), [4]);
    }
}
