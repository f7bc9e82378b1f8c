//! Stage 4: rules × items → findings.
//!
//! The only module that runs in parallel. Item rules run over items and chain rules over chains
//! with rayon (`par_iter` → `fold` → `reduce`); findings are then waived, the rules that need
//! the waiver outcome (`used(w)`) run, and everything is sorted by file, position and rule, so
//! the output is byte-identical whatever the thread count.
//!
//! A rule that cannot be evaluated on an item (an absent value the checker could not rule out,
//! an overflow) yields an error finding for that item: never a silent pass.

mod cond;
pub mod screen;
pub mod value;

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use self::value::{List, Owner, Seq, Value};
use crate::compile::cond::{Cond, material_texts};
use crate::compile::types::{Builtin, Field};
use crate::compile::{CExpr, CFixAction, CPart, CompiledRule, Program, Root, Step};
use crate::corpus::Corpus;
use crate::corpus::config::Level;
use crate::corpus::model::{Citation, Date, Item, Material, Waiver};
use crate::corpus::normalize;
use crate::corpus::reference::References;
use crate::i18n::{Lang, lang};
use crate::source::{Span, Spanned};
use crate::syntax::ast::{Applicability, BinOp, QuantKind, Severity};
use crate::timings;
use crate::tr;

/// How a run is set up.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The date statutes must be in force and waivers unexpired at.
    pub as_of: Date,
    /// Per rule (same order as `Program::rules`): its level, or `None` when it does not run.
    pub levels: Vec<Option<Level>>,
    /// Skip the items a rule's screen clears ([`screen`]). Always on but in the tests that
    /// hold the screens to the interpreter: the findings are the same either way.
    pub screens: bool,
}

impl RunOptions {
    /// Every rule at its default severity.
    #[must_use]
    pub fn all(program: &Program, as_of: Date) -> Self {
        RunOptions::new(as_of, program.rules.iter().map(|r| Some(default_level(r.severity))).collect())
    }

    /// The rules at `levels`, screened.
    #[must_use]
    pub fn new(as_of: Date, levels: Vec<Option<Level>>) -> Self {
        RunOptions { as_of, levels, screens: true }
    }
}

#[must_use]
pub fn default_level(s: Severity) -> Level {
    match s {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Info => Level::Info,
    }
}

/// A suggested fix, described; the byte edits are made by `fix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixSuggestion {
    pub applicability: Applicability,
    pub description: String,
    /// Material to remove, or (field, value) assignments on the target.
    pub remove: Option<(u32, u32)>,
    pub set: Vec<(Owner, String, String)>,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Index into `Program::rules`.
    pub rule: usize,
    pub level: Level,
    pub span: Span,
    pub item: Option<u32>,
    pub material: Option<u32>,
    pub message: String,
    pub help: String,
    /// The waiver that waives it.
    pub waived_by: Option<(Owner, u32)>,
    pub fix: Option<FixSuggestion>,
    /// The rule could not be evaluated here.
    pub eval_error: bool,
}

#[derive(Debug)]
struct EvalError {
    message: String,
}

fn err(message: String) -> Box<EvalError> {
    Box::new(EvalError { message })
}

/// Boxed, so that a `Result` of a `bool` or of nothing comes back in registers: conditions
/// and steps return one per element of every rule.
type R<T> = Result<T, Box<EvalError>>;

struct Ctx<'a> {
    corpus: &'a Corpus,
    refs: &'a References,
    program: &'a Program,
    opts: &'a RunOptions,
    used: Option<&'a HashSet<(Owner, u32)>>,
}

struct Exec<'a, 'c> {
    cx: &'c Ctx<'a>,
    rule_idx: usize,
    /// The rule being run; `None` for list blocks, which never emit findings.
    rule: Option<&'a CompiledRule>,
    steps: &'a [Step],
    env: Vec<Value<'a>>,
    out: Vec<Finding>,
    /// Indexes of record sequences by a text field, for [`CExpr::Lookup`]; `None` when the
    /// field cannot be indexed.
    lookups: FxHashMap<(Seq, Field), Option<Rc<EqIndex<'a>>>>,
    /// How many elements quantifiers have tested: what the indexes save, made visible to tests.
    tested: u64,
}

/// Record numbers by field value, ascending.
type EqIndex<'a> = FxHashMap<Option<&'a str>, Vec<u32>>;

/// How many items each screen clears at a time (see `run_rules`).
const SCREEN_RUN: u32 = 32;

/// The fewest runs of `SCREEN_RUN` items that one worker takes at a time (see `run_rules`).
const MIN_RUNS: usize = 16;

/// Shorter lists are tested element by element: building an index would cost more.
const LOOKUP_FROM: usize = 16;

/// Runs every enabled rule on the corpus.
#[must_use]
pub fn run(program: &Program, corpus: &Corpus, refs: &References, opts: &RunOptions) -> Vec<Finding> {
    run_part(program, corpus, refs, opts, &|_| true, &HashSet::new())
}

/// [`run`], of the enabled first-phase rules only those `first` accepts (every enabled rule that
/// needs the others' outcome still runs), counting the waivers in `used` as used besides those
/// that waive a finding of this run. The streaming check's phase 2 runs again only what other
/// files can change, with what phase 1 found on the same items.
#[must_use]
pub fn run_part(
    program: &Program,
    corpus: &Corpus,
    refs: &References,
    opts: &RunOptions,
    first: &dyn Fn(usize) -> bool,
    used: &HashSet<(Owner, u32)>,
) -> Vec<Finding> {
    let cx = Ctx { corpus, refs, program, opts, used: None };
    let enabled = |phase2: bool| -> Vec<usize> {
        program
            .rules
            .iter()
            .enumerate()
            .filter(|(i, r)| r.second_phase == phase2 && opts.levels.get(*i).copied().flatten().is_some())
            .map(|(i, _)| i)
            .filter(|&i| phase2 || first(i))
            .collect()
    };
    let first = enabled(false);
    let mut findings = run_rules(&cx, &first);
    let mut waived = apply_waivers(corpus, program, opts, &mut findings);
    waived.extend(used.iter().copied());
    let second = enabled(true);
    if !second.is_empty() {
        let cx2 = Ctx { used: Some(&waived), ..cx };
        findings.extend(run_rules(&cx2, &second));
    }
    sort(&mut findings, program);
    findings
}

fn run_rules(cx: &Ctx<'_>, rules: &[usize]) -> Vec<Finding> {
    let item_rules: Vec<usize> =
        rules.iter().copied().filter(|&r| cx.program.rules.get(r).is_some_and(|r| r.root == Root::Items)).collect();
    let chain_rules: Vec<usize> =
        rules.iter().copied().filter(|&r| cx.program.rules.get(r).is_some_and(|r| r.root == Root::Chains)).collect();
    let n_items = u32::try_from(cx.corpus.items.len()).unwrap_or(u32::MAX);
    let n_chains = u32::try_from(cx.corpus.chains.len()).unwrap_or(u32::MAX);
    // Each worker keeps one executor, and its variable table, for all the rules and records it
    // runs: setting one up for every rule and record was a measurable part of running the rules.
    // The interpreter runs a rule on an item only where the rule's screen does not clear it.
    let screens: Vec<Option<&screen::Screen>> = item_rules
        .iter()
        .map(|&r| cx.program.rules.get(r).and_then(|r| r.screen.as_deref()).filter(|_| cx.opts.screens))
        .collect();
    // Items go in runs of `SCREEN_RUN`: each screen clears what it can in a run, rule after rule
    // (the same closures over and over, which the processor predicts), and the interpreter then
    // runs on the run's items in order, rule after rule, on what was not cleared.
    // A worker takes at least `MIN_RUNS` runs at a time, so a corpus of fewer than twice as many
    // (1,024 items) is not split among the workers: the streaming check runs the rules of each
    // file (a few hundred items) on the worker that loaded it while the other workers check
    // other files, and a file split between two workers waited, at its end, for a part another
    // had taken — the longer, the busier the machine.
    let run_all = |rules: &[usize], n: u32, root: fn(u32) -> Value<'static>, screens: &[Option<&screen::Screen>]| {
        (0..n.div_ceil(SCREEN_RUN))
            .into_par_iter()
            .with_min_len(MIN_RUNS)
            .map_init(
                || (Exec::new(cx, 0, None, &[], 1, (0, Value::Absent)), Vec::new(), Vec::new()),
                |(ex, work, cleared), c| {
                    let from = c.saturating_mul(SCREEN_RUN);
                    let items = from..from.saturating_add(SCREEN_RUN).min(n);
                    // Per rule of the run, when timings are on: time in its screen, in the interpreter.
                    let mut spent = timings::on().then(|| vec![(Duration::ZERO, Duration::ZERO); rules.len()]);
                    cleared.clear();
                    for (i, s) in screens.iter().enumerate() {
                        let start = spent.as_ref().map(|_| Instant::now());
                        match s {
                            Some(s) => s.clears(cx.corpus, cx.refs, cx.opts, items.clone(), work, cleared),
                            None => cleared.extend(items.clone().map(|_| false)),
                        }
                        if let (Some(start), Some(t)) = (start, spent.as_mut().and_then(|v| v.get_mut(i))) {
                            t.0 += start.elapsed();
                        }
                    }
                    let len = items.len();
                    for (j, k) in items.enumerate() {
                        for (i, &r) in rules.iter().enumerate() {
                            if cleared.get(i.saturating_mul(len).saturating_add(j)).copied().unwrap_or(false) {
                                continue;
                            }
                            let start = spent.as_ref().map(|_| Instant::now());
                            ex.run_root(r, root(k));
                            if let (Some(start), Some(t)) = (start, spent.as_mut().and_then(|v| v.get_mut(i))) {
                                t.1 += start.elapsed();
                            }
                        }
                    }
                    for (&r, (screen, interpreter)) in rules.iter().zip(spent.into_iter().flatten()) {
                        timings::add_rule(r, screen, interpreter);
                    }
                    std::mem::take(&mut ex.out)
                },
            )
            .flatten_iter()
            .collect::<Vec<Finding>>()
    };
    let mut out = run_all(&item_rules, n_items, Value::Item, &screens);
    out.extend(run_all(&chain_rules, n_chains, Value::Chain, &[]));
    out
}

impl<'a, 'c> Exec<'a, 'c> {
    /// An executor for `steps` with `slots` empty variables and `root` in slot `root_slot`.
    fn new(
        cx: &'c Ctx<'a>,
        rule_idx: usize,
        rule: Option<&'a CompiledRule>,
        steps: &'a [Step],
        slots: usize,
        root: (usize, Value<'a>),
    ) -> Self {
        let mut ex = Exec {
            cx,
            rule_idx,
            rule,
            steps,
            env: Vec::new(),
            out: Vec::new(),
            lookups: FxHashMap::default(),
            tested: 0,
        };
        ex.start(rule_idx, rule, steps, slots, root);
        ex
    }

    /// Makes this executor run `steps` with `root` in slot `root_slot`. The findings so far are
    /// kept, and what the variables hold is left to be overwritten: the compiler resolves each
    /// name to a binding that runs before it is read, so what an earlier rule or record left in
    /// a variable is never seen.
    fn start(
        &mut self,
        rule_idx: usize,
        rule: Option<&'a CompiledRule>,
        steps: &'a [Step],
        slots: usize,
        (root_slot, root): (usize, Value<'a>),
    ) {
        (self.rule_idx, self.rule, self.steps) = (rule_idx, rule, steps);
        if self.env.len() < slots.max(1) {
            self.env.resize(slots.max(1), Value::Absent);
        }
        self.set(root_slot, root);
        // Indexes are of one record's lists: another record starts afresh.
        if !self.lookups.is_empty() {
            self.lookups.clear();
        }
    }

    /// Runs one rule on one record, adding its findings to `self.out`.
    fn run_root(&mut self, rule_idx: usize, root: Value<'a>) {
        let Some(rule) = self.cx.program.rules.get(rule_idx) else { return };
        self.start(rule_idx, Some(rule), &rule.steps, rule.slots, (rule.root_slot, root.clone()));
        if let Err(e) = self.steps(0) {
            let f = self.error_finding(&root, &e);
            self.out.push(f);
        }
    }
}

/// Marks waived findings; returns the waivers that waived something.
fn apply_waivers(
    corpus: &Corpus,
    program: &Program,
    opts: &RunOptions,
    findings: &mut [Finding],
) -> HashSet<(Owner, u32)> {
    let mut used = HashSet::new();
    for f in findings.iter_mut() {
        if f.eval_error {
            continue;
        }
        let (Some(item_idx), Some(rule)) = (f.item, program.rules.get(f.rule)) else { continue };
        let Some(item) = corpus.items.get(item_idx as usize) else { continue };
        let valid = |w: &Waiver| {
            w.rule.value == rule.id && w.reason.is_some() && w.expires.as_ref().is_none_or(|e| e.value >= opts.as_of)
        };
        let on_material =
            f.material.and_then(|m| item.materials.get(m as usize).map(|mat| (m, mat))).and_then(|(m, mat)| {
                mat.waivers.iter().position(valid).map(|w| (Owner { item: item_idx, material: Some(m) }, w))
            });
        let on_item = || item.waivers.iter().position(valid).map(|w| (Owner { item: item_idx, material: None }, w));
        if let Some((owner, w)) = on_material.or_else(on_item) {
            let key = (owner, u32::try_from(w).unwrap_or(u32::MAX));
            f.waived_by = Some(key);
            used.insert(key);
        }
    }
    used
}

fn sort(findings: &mut [Finding], program: &Program) {
    findings.sort_by(|a, b| {
        let ra = program.rules.get(a.rule).map_or("", |r| r.id.as_str());
        let rb = program.rules.get(b.rule).map_or("", |r| r.id.as_str());
        (a.span.file, a.span.start, ra, &a.message, a.span.end).cmp(&(
            b.span.file,
            b.span.start,
            rb,
            &b.message,
            b.span.end,
        ))
    });
}

fn bool_of(v: &Value<'_>) -> R<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(err(tr!("条件不是布尔值", "condition is not a boolean"))),
    }
}

/// What `empty(v)` says: absent, blank text and an empty list are empty.
fn empty(v: &Value<'_>) -> bool {
    match v {
        Value::Absent => true,
        Value::Str(s) => s.trim().is_empty(),
        Value::List(l) => l.is_empty(),
        _ => false,
    }
}

fn int_of(v: &Value<'_>) -> R<i64> {
    match v {
        Value::Int(n) => Ok(*n),
        Value::Absent => Err(absent()),
        _ => Err(err(tr!("不是整数", "not a number"))),
    }
}

fn is_literal(e: &CExpr) -> bool {
    matches!(e, CExpr::Bool(_) | CExpr::Int(_) | CExpr::Str(_) | CExpr::Date(_))
}

fn absent() -> Box<EvalError> {
    err(tr!("所需的值缺失", "a required value is absent"))
}

fn opt<'a, T>(v: Option<&'a Spanned<T>>, f: impl FnOnce(&'a T) -> Value<'a>) -> Value<'a> {
    v.map_or(Value::Absent, |s| f(&s.value))
}

fn date_or_absent(d: Option<&Date>) -> Value<'_> {
    d.map_or(Value::Absent, |d| Value::Date(*d))
}

impl<'a> Exec<'a, '_> {
    fn item(&self, i: u32) -> R<&'a Item> {
        self.cx.corpus.items.get(i as usize).ok_or_else(|| err("item index out of range".into()))
    }

    fn material(&self, i: u32, m: u32) -> R<&'a Material> {
        self.item(i)?.materials.get(m as usize).ok_or_else(|| err("material index out of range".into()))
    }

    fn waiver(&self, o: Owner, w: u32) -> R<&'a Waiver> {
        let list = match o.material {
            Some(m) => &self.material(o.item, m)?.waivers,
            None => &self.item(o.item)?.waivers,
        };
        list.get(w as usize).ok_or_else(|| err("waiver index out of range".into()))
    }

    fn citation(&self, o: Owner, c: u32) -> R<&'a Citation> {
        let list = match o.material {
            Some(m) => &self.material(o.item, m)?.basis,
            None => &self.item(o.item)?.basis,
        };
        list.get(c as usize).ok_or_else(|| err("citation index out of range".into()))
    }

    fn step_code(&self, c: u32, s: u32) -> R<&'a Spanned<String>> {
        self.cx
            .corpus
            .chains
            .get(c as usize)
            .and_then(|ch| ch.steps.get(s as usize))
            .ok_or_else(|| err("step index out of range".into()))
    }

    fn steps(&mut self, i: usize) -> R<()> {
        let Some(step) = self.steps.get(i) else {
            self.emit()?;
            return Ok(());
        };
        match step {
            Step::For(slot, list) => {
                let v = self.eval(list)?;
                let Value::List(items) = v else {
                    return Err(err(tr!("不是列表", "not a list")));
                };
                // Most elements fail the `when` that follows: test it here rather than a call deeper.
                let filter = match self.steps.get(i + 1) {
                    Some(Step::When(c)) => Some(c),
                    _ => None,
                };
                let next = if filter.is_some() { i + 2 } else { i + 1 };
                // An item's materials under a condition on the material alone: each is tested
                // as it is, and only those that pass are bound.
                if let (List::Seq(Seq::Materials(item), range), Some(CExpr::Cond(lc))) = (&items, filter)
                    && let Cond::Mat(mc) = &lc.0
                    && mc.slot == *slot
                    && let Some(it) = self.cx.corpus.items.get(*item as usize)
                {
                    for k in range.clone() {
                        let pass = it.materials.get(k as usize).and_then(|m| (mc.test)(m));
                        if pass == Some(false) {
                            continue;
                        }
                        self.set(*slot, Value::Material(*item, k));
                        if pass.is_none() && !self.cond(&mc.cond)? {
                            continue;
                        }
                        self.steps(next)?;
                    }
                    return Ok(());
                }
                for it in items.iter() {
                    self.set(*slot, it);
                    if let Some(c) = filter
                        && !self.test(c)?
                    {
                        continue;
                    }
                    self.steps(next)?;
                }
                Ok(())
            }
            Step::Let(slot, e) => {
                let v = self.eval(e)?;
                self.set(*slot, v);
                self.steps(i + 1)
            }
            Step::When(e) => {
                if self.test(e)? {
                    self.steps(i + 1)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn set(&mut self, slot: usize, v: Value<'a>) {
        if let Some(s) = self.env.get_mut(slot) {
            *s = v;
        }
    }

    fn emit(&mut self) -> R<()> {
        let Some(rule) = self.rule else { return Ok(()) };
        let mut scope = self.env.get(rule.scope_slot).cloned().unwrap_or(Value::Absent);
        // A `for` over plain values (departments, strings) locates nothing: use the root.
        if self.context(&scope)? == (None, None) && !matches!(scope, Value::Chain(_)) {
            scope = self.env.get(rule.root_slot).cloned().unwrap_or(Value::Absent);
        }
        let span = match &rule.at {
            Some(at) => self.span_of(at)?.unwrap_or(self.record_span(&scope)?),
            None => self.record_span(&scope)?,
        };
        let (item, material) = self.context(&scope)?;
        let message = self.render(&rule.message)?;
        let help = self.render(&rule.help)?;
        let fix = match &rule.fix {
            Some(f) => self.fix(f)?,
            None => None,
        };
        let level = self.cx.opts.levels.get(self.rule_idx).copied().flatten().unwrap_or(Level::Error);
        self.out.push(Finding {
            rule: self.rule_idx,
            level,
            span,
            item,
            material,
            message,
            help,
            waived_by: None,
            fix,
            eval_error: false,
        });
        Ok(())
    }

    fn error_finding(&self, root: &Value<'a>, e: &EvalError) -> Finding {
        let span = self.record_span(root).unwrap_or_default();
        let (item, _) = self.context(root).unwrap_or((None, None));
        Finding {
            rule: self.rule_idx,
            level: Level::Error,
            span,
            item,
            material: None,
            message: tr!(
                "规则 {} 无法在此求值：{}",
                "rule {} could not be evaluated here: {}",
                self.rule.map_or("", |r| r.id.as_str()),
                e.message
            ),
            help: tr!(
                "补全该事项的数据，或修正规则（qingdan policy check）",
                "complete the item's data, or fix the rule (qingdan policy check)"
            ),
            waived_by: None,
            fix: None,
            eval_error: true,
        }
    }

    fn fix(&mut self, f: &'a crate::compile::CFix) -> R<Option<FixSuggestion>> {
        match &f.action {
            CFixAction::Remove(e) => {
                let Value::Material(i, m) = self.eval(e)? else { return Ok(None) };
                let name = &self.material(i, m)?.name.value;
                Ok(Some(FixSuggestion {
                    applicability: f.applicability,
                    description: tr!("删除材料「{}」", "remove material `{}`", name),
                    remove: Some((i, m)),
                    set: Vec::new(),
                }))
            }
            CFixAction::Set(sets) => {
                let mut out = Vec::new();
                let mut desc = Vec::new();
                for (target, field, value) in sets {
                    let owner = match self.eval(target)? {
                        Value::Material(i, m) => Owner { item: i, material: Some(m) },
                        Value::Item(i) => Owner { item: i, material: None },
                        _ => return Ok(None),
                    };
                    let v = self.eval(value)?;
                    if v.is_absent() {
                        continue;
                    }
                    let shown = self.display(&v)?;
                    desc.push(format!("{field} = {shown}"));
                    out.push((owner, field.clone(), shown));
                }
                if out.is_empty() {
                    return Ok(None);
                }
                Ok(Some(FixSuggestion {
                    applicability: f.applicability,
                    description: tr!("改为 {}", "set {}", desc.join(", ")),
                    remove: None,
                    set: out,
                }))
            }
        }
    }

    fn context(&self, v: &Value<'a>) -> R<(Option<u32>, Option<u32>)> {
        Ok(match v {
            Value::Item(i) => (Some(*i), None),
            Value::Material(i, m) => (Some(*i), Some(*m)),
            Value::Waiver(o, _) | Value::Citation(o, _) => (Some(o.item), o.material),
            Value::Step(c, s) => {
                (self.cx.corpus.items_with_code(&self.step_code(*c, *s)?.value).first().copied(), None)
            }
            _ => (None, None),
        })
    }

    fn record_span(&self, v: &Value<'a>) -> R<Span> {
        Ok(match v {
            Value::Item(i) => self.item(*i)?.code.span,
            Value::Material(i, m) => self.material(*i, *m)?.name.span,
            Value::Waiver(o, w) => self.waiver(*o, *w)?.rule.span,
            Value::Citation(o, c) => self.citation(*o, *c)?.text.span,
            Value::Chain(c) => self.cx.corpus.chains.get(*c as usize).map(|ch| ch.name.span).unwrap_or_default(),
            Value::Step(c, s) => self.step_code(*c, *s)?.span,
            _ => Span::default(),
        })
    }

    /// The span of a field path (`m.name`, `item.promised_days`); `None` when it is absent.
    fn span_of(&mut self, e: &'a CExpr) -> R<Option<Span>> {
        match e {
            CExpr::Unwrap(inner, _) => self.span_of(inner),
            CExpr::Var(_) => {
                let v = self.eval(e)?;
                Ok(Some(self.record_span(&v)?))
            }
            CExpr::Field(inner, field) => {
                let rec = self.eval(inner)?;
                Ok(self.field_span(&rec, *field)?.or(Some(self.record_span(&rec)?)))
            }
            CExpr::If(cond, a, b) => {
                if bool_of(&self.eval(cond)?)? {
                    self.span_of(a)
                } else {
                    self.span_of(b)
                }
            }
            _ => Ok(None),
        }
    }

    fn field_span(&self, rec: &Value<'a>, field: Field) -> R<Option<Span>> {
        fn s<T>(x: Option<&Spanned<T>>) -> Option<Span> {
            x.map(|v| v.span)
        }
        Ok(match rec {
            Value::Item(i) => {
                let it = self.item(*i)?;
                match field {
                    Field::ItemCode => Some(it.code.span),
                    Field::ItemName => Some(it.name.span),
                    Field::ItemType => s(it.item_type.as_ref()),
                    Field::ItemDepartment => s(it.department.as_ref()),
                    Field::ItemHandling => s(it.handling.as_ref()),
                    Field::ItemPromise => s(it.promise.as_ref()),
                    Field::ItemLegalDays => s(it.legal_days.as_ref()),
                    Field::ItemPromisedDays => s(it.promised_days.as_ref()),
                    Field::ItemVisits => s(it.visits.as_ref()),
                    Field::ItemOnline => s(it.online.as_ref()),
                    Field::ItemSteps => s(it.steps.as_ref()),
                    Field::ItemSuperior => s(it.superior.as_ref()),
                    Field::ItemFee => s(it.fee.as_ref()),
                    Field::ItemInHall => s(it.in_hall.as_ref()),
                    Field::ItemExtendable => s(it.extendable.as_ref()),
                    Field::ItemCitywide => s(it.citywide.as_ref()),
                    _ => None,
                }
            }
            Value::Material(i, m) => {
                let mat = self.material(*i, *m)?;
                match field {
                    Field::MatName => Some(mat.name.span),
                    Field::MatKind => s(mat.kind.as_ref()),
                    Field::MatSource => s(mat.source.as_ref()),
                    Field::MatAcquisition => s(mat.acquisition.as_ref()),
                    Field::MatProvider => s(mat.provider.as_ref()),
                    Field::MatCopies => s(mat.copies.as_ref()),
                    Field::MatFormat => s(mat.format.as_ref()),
                    Field::MatNote => s(mat.note.as_ref()),
                    _ => None,
                }
            }
            Value::Waiver(o, w) => {
                let wv = self.waiver(*o, *w)?;
                match field {
                    Field::WaiverRule => Some(wv.rule.span),
                    Field::WaiverReason => s(wv.reason.as_ref()),
                    Field::WaiverApprovedBy => s(wv.approved_by.as_ref()),
                    Field::WaiverExpires => s(wv.expires.as_ref()),
                    _ => None,
                }
            }
            Value::Citation(o, c) => Some(self.citation(*o, *c)?.text.span),
            _ => None,
        })
    }

    fn render(&mut self, t: &'a crate::compile::CText) -> R<String> {
        let parts = match lang() {
            Lang::Zh => &t.zh,
            Lang::En => &t.en,
        };
        let mut out = String::new();
        for p in parts {
            match p {
                CPart::Lit(s) => out.push_str(s),
                CPart::Expr(e) => {
                    let e = match e {
                        CExpr::Unwrap(inner, _) => inner,
                        e => e,
                    };
                    // A field of an absent record shows as "—" in a message.
                    let v = self.eval(e).unwrap_or(Value::Absent);
                    out.push_str(&self.display(&v)?);
                }
            }
        }
        Ok(out)
    }

    fn display(&self, v: &Value<'a>) -> R<String> {
        Ok(match v {
            Value::Absent => "—".into(),
            Value::Bool(b) => {
                if *b {
                    tr!("是", "yes")
                } else {
                    tr!("否", "no")
                }
            }
            Value::Int(n) => n.to_string(),
            Value::Str(s) => s.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Regex(r) => r.as_str().to_string(),
            Value::List(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for it in items.iter() {
                    parts.push(self.display(&it)?);
                }
                parts.join(crate::i18n::t("、", ", "))
            }
            Value::Item(i) => self.item(*i)?.name.value.clone(),
            Value::Material(i, m) => self.material(*i, *m)?.name.value.to_string(),
            Value::Chain(c) => {
                self.cx.corpus.chains.get(*c as usize).map(|ch| ch.name.value.clone()).unwrap_or_default()
            }
            Value::Step(c, s) => self.step_code(*c, *s)?.value.clone(),
            Value::Waiver(o, w) => self.waiver(*o, *w)?.rule.value.clone(),
            Value::Citation(o, c) => self.citation(*o, *c)?.text.value.clone(),
            Value::Statute(s) => format!("《{}》", s.title),
            Value::Shared(s) => s.name.clone(),
            Value::Certificate(c) => c.name.clone(),
            Value::Cover(c) => c.kept.clone(),
        })
    }

    fn eval(&mut self, e: &'a CExpr) -> R<Value<'a>> {
        Ok(match e {
            CExpr::Bool(_) | CExpr::Int(_) | CExpr::Str(_) | CExpr::Date(_) | CExpr::Regex(_) => Value::literal(e),
            CExpr::List(items) if items.iter().all(is_literal) => Value::List(List::Lits(items)),
            CExpr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.eval(it)?);
                }
                Value::list(out)
            }
            CExpr::Var(slot) => self.env.get(*slot).cloned().unwrap_or(Value::Absent),
            CExpr::AsOf => Value::Date(self.cx.opts.as_of),
            CExpr::Items => Value::seq(Seq::Items, self.cx.corpus.items.len()),
            CExpr::Chains => Value::seq(Seq::Chains, self.cx.corpus.chains.len()),
            // A variable's record is read in place: cloning it would copy an owned text.
            CExpr::Field(inner, field) => match **inner {
                CExpr::Var(slot) => self.field(self.env.get(slot).unwrap_or(&Value::Absent), *field)?,
                _ => {
                    let rec = self.eval(inner)?;
                    self.field(&rec, *field)?
                }
            },
            CExpr::Unwrap(inner, _) => {
                let v = self.eval(inner)?;
                if v.is_absent() {
                    return Err(absent());
                }
                v
            }
            CExpr::Call(b, args) => self.call(*b, args)?,
            CExpr::Quant(kind, slot, list, cond) => {
                let items = self.list(list)?;
                self.quant(*kind, *slot, items.iter(), cond)?
            }
            CExpr::Lookup(q) => self.lookup(q)?,
            CExpr::If(c, a, b) => {
                if self.test(c)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            CExpr::Not(_) => Value::Bool(self.test(e)?),
            CExpr::Neg(a) => Value::Int(int_of(&self.eval(a)?)?.checked_neg().ok_or_else(overflow)?),
            CExpr::Bin(op, a, b) => self.binary(*op, a, b)?,
            CExpr::Cond(c) => Value::Bool(self.cond(&c.0)?),
        })
    }

    /// A [`CExpr::Lookup`]: kept out of [`Exec::eval`], whose every call pays for its size.
    #[inline(never)]
    fn lookup(&mut self, q: &'a crate::compile::Lookup) -> R<Value<'a>> {
        let items = self.list(&q.list)?;
        match &items {
            List::Seq(seq, range) if range.len() >= LOOKUP_FROM => {
                match self.candidates(*seq, range.clone(), q.field, &q.key)? {
                    Some(found) => self.quant(q.kind, q.slot, found.into_iter().map(|k| seq.at(k)), &q.cond),
                    None => self.quant(q.kind, q.slot, items.iter(), &q.cond),
                }
            }
            // A few materials: their field read in place, and only those equal to the key
            // bound and tested, as the index would give them.
            List::Seq(Seq::Materials(i), range)
                if !range.is_empty()
                    && let Some(get) = q.material_text
                    && let Some(key) = self.key(&q.key)? =>
            {
                let (i, item) = (*i, self.item(*i)?);
                let equal = move |k: &u32| item.materials.get(*k as usize).is_some_and(|m| get(m) == key.as_deref());
                self.quant(q.kind, q.slot, range.clone().filter(equal).map(|k| Value::Material(i, k)), &q.cond)
            }
            _ => self.quant(q.kind, q.slot, items.iter(), &q.cond),
        }
    }

    /// A condition: the same answer and the same errors as `bool_of(eval(e))`. The compiler lowers
    /// the conditions of rules ([`crate::compile::cond`]): those are decided on the list's values
    /// read in place; anything else is evaluated.
    fn test(&mut self, e: &'a CExpr) -> R<bool> {
        match e {
            CExpr::Cond(c) => self.cond(&c.0),
            CExpr::Bin(BinOp::And, a, b) => Ok(self.test(a)? && self.test(b)?),
            CExpr::Bin(BinOp::Or, a, b) => Ok(self.test(a)? || self.test(b)?),
            CExpr::Not(a) => Ok(!self.test(a)?),
            _ => bool_of(&self.eval(e)?),
        }
    }

    fn list(&mut self, e: &'a CExpr) -> R<List<'a>> {
        match self.eval(e)? {
            Value::List(l) => Ok(l),
            _ => Err(err(tr!("不是列表", "not a list"))),
        }
    }

    fn quant(
        &mut self,
        kind: QuantKind,
        slot: usize,
        items: impl Iterator<Item = Value<'a>>,
        cond: &'a CExpr,
    ) -> R<Value<'a>> {
        let mut count = 0i64;
        for it in items {
            self.tested += 1;
            self.set(slot, it);
            let hit = self.test(cond)?;
            match kind {
                QuantKind::Any if hit => return Ok(Value::Bool(true)),
                QuantKind::All if !hit => return Ok(Value::Bool(false)),
                // The condition's own quantifiers bind other variables: the element is still here.
                QuantKind::First if hit => return Ok(self.env.get(slot).cloned().unwrap_or(Value::Absent)),
                QuantKind::Count if hit => count += 1,
                _ => {}
            }
        }
        Ok(match kind {
            QuantKind::Any => Value::Bool(false),
            QuantKind::All => Value::Bool(true),
            QuantKind::First => Value::Absent,
            QuantKind::Count => Value::Int(count),
        })
    }

    /// The elements of `seq` within `range` whose `field` equals `key`, in order, through an
    /// index of the whole sequence built on first use; `None` when the values cannot be indexed
    /// (a field that is not text), and the caller tests every element instead.
    fn candidates(&mut self, seq: Seq, range: Range<u32>, field: Field, key: &'a CExpr) -> R<Option<Vec<u32>>> {
        let index = match self.lookups.get(&(seq, field)) {
            Some(ix) => ix.clone(),
            None => {
                let ix = self.build_index(seq, field)?.map(Rc::new);
                self.lookups.insert((seq, field), ix.clone());
                ix
            }
        };
        let Some(index) = index else { return Ok(None) };
        let Some(key) = self.key(key)? else { return Ok(None) };
        let Some(all) = index.get(&key.as_deref()) else { return Ok(Some(Vec::new())) };
        let from = all.partition_point(|&k| k < range.start);
        let to = all.partition_point(|&k| k < range.end);
        Ok(Some(all.get(from..to).unwrap_or_default().to_vec()))
    }

    /// The text a [`CExpr::Lookup`] looks for: `Some(None)` when it is absent, `None` when it is
    /// not text (the elements are then tested one by one, as written).
    fn key(&mut self, key: &'a CExpr) -> R<Option<Option<Cow<'a, str>>>> {
        Ok(match self.eval(key)? {
            Value::Str(s) => Some(Some(s)),
            Value::Absent => Some(None),
            _ => None,
        })
    }

    fn build_index(&self, seq: Seq, field: Field) -> R<Option<EqIndex<'a>>> {
        let len = match seq {
            Seq::Items => self.cx.corpus.items.len(),
            Seq::Chains => self.cx.corpus.chains.len(),
            Seq::Materials(i) => self.item(i)?.materials.len(),
            Seq::Steps(c) => self.cx.corpus.chains.get(c as usize).map_or(0, |ch| ch.steps.len()),
            Seq::Citations(o) => match o.material {
                Some(m) => self.material(o.item, m)?.basis.len(),
                None => self.item(o.item)?.basis.len(),
            },
            Seq::Waivers(o) => match o.material {
                Some(m) => self.material(o.item, m)?.waivers.len(),
                None => self.item(o.item)?.waivers.len(),
            },
        };
        let mut index: EqIndex<'a> = FxHashMap::default();
        for k in 0..u32::try_from(len).unwrap_or(u32::MAX) {
            let key = match self.field(&seq.at(k), field) {
                Ok(Value::Str(Cow::Borrowed(s))) => Some(s),
                Ok(Value::Absent) => None,
                // Text built at run time, another type, or an error that the plain loop must
                // report as it would have.
                _ => return Ok(None),
            };
            index.entry(key).or_default().push(k);
        }
        Ok(Some(index))
    }

    fn binary(&mut self, op: BinOp, a: &'a CExpr, b: &'a CExpr) -> R<Value<'a>> {
        match op {
            BinOp::And => return Ok(Value::Bool(self.test(a)? && self.test(b)?)),
            BinOp::Or => return Ok(Value::Bool(self.test(a)? || self.test(b)?)),
            BinOp::Coalesce => {
                let va = self.eval(a)?;
                return if va.is_absent() { self.eval(b) } else { Ok(va) };
            }
            _ => {}
        }
        let va = self.eval(a)?;
        let vb = self.eval(b)?;
        Ok(match op {
            BinOp::Eq => Value::Bool(va.equals(&vb)),
            BinOp::Ne => Value::Bool(!va.equals(&vb)),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ord = match (&va, &vb) {
                    (Value::Int(x), Value::Int(y)) => x.cmp(y),
                    (Value::Date(x), Value::Date(y)) => x.cmp(y),
                    _ => return Err(absent()),
                };
                Value::Bool(op.holds(ord).unwrap_or_default())
            }
            BinOp::In | BinOp::NotIn => {
                let Value::List(items) = &vb else { return Err(absent()) };
                let found = items.iter().any(|x| x.equals(&va));
                Value::Bool(found == (op == BinOp::In))
            }
            BinOp::Contains => match (&va, &vb) {
                (Value::Str(x), Value::Str(y)) => Value::Bool(x.contains(y.as_ref())),
                (Value::List(items), y) => Value::Bool(items.iter().any(|x| x.equals(y))),
                _ => return Err(absent()),
            },
            BinOp::Matches => match (&va, &vb) {
                (Value::Str(x), Value::Regex(re)) => Value::Bool(re.is_match(x)),
                _ => return Err(absent()),
            },
            BinOp::Add => match (va, vb) {
                (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_add(y).ok_or_else(overflow)?),
                // Lists are never changed in place, so an empty operand needs no copy.
                (Value::List(x), Value::List(y)) if y.is_empty() => Value::List(x),
                (Value::List(x), Value::List(y)) if x.is_empty() => Value::List(y),
                (Value::List(x), Value::List(y)) => Value::list(x.iter().chain(y.iter()).collect()),
                (Value::Str(x), Value::Str(y)) => Value::Str(Cow::Owned(format!("{x}{y}"))),
                _ => return Err(absent()),
            },
            BinOp::Sub => Value::Int(int_of(&va)?.checked_sub(int_of(&vb)?).ok_or_else(overflow)?),
            BinOp::And | BinOp::Or | BinOp::Coalesce => Value::Absent,
        })
    }

    fn text_arg(&mut self, args: &'a [CExpr]) -> R<Option<Cow<'a, str>>> {
        let Some(a) = args.first() else { return Ok(None) };
        if let Some(t) = self.fast_text(a) {
            return Ok(t.map(Cow::Borrowed));
        }
        Ok(match self.eval(a)? {
            Value::Str(s) => Some(s),
            _ => None,
        })
    }

    fn call(&mut self, b: Builtin, args: &'a [CExpr]) -> R<Value<'a>> {
        let refs = self.cx.refs;
        Ok(match b {
            Builtin::Exists => {
                let v = match args.first() {
                    Some(a) => self.eval(a)?,
                    None => Value::Absent,
                };
                Value::Bool(!v.is_absent())
            }
            Builtin::Empty => {
                let v = match args.first() {
                    Some(a) => self.eval(a)?,
                    None => Value::Absent,
                };
                Value::Bool(empty(&v))
            }
            Builtin::Count => match args.first().map(|a| self.eval(a)).transpose()? {
                Some(Value::List(l)) => Value::Int(i64::try_from(l.len()).unwrap_or(i64::MAX)),
                _ => Value::Int(0),
            },
            Builtin::Norm => match self.text_arg(args)? {
                Some(s) => Value::Str(Cow::Owned(normalize::name(&s))),
                None => Value::Absent,
            },
            Builtin::CatchAll => match self.text_arg(args)? {
                Some(s) => refs.phrases.find(&s).map_or(Value::Absent, |p| Value::Str(Cow::Owned(p))),
                None => Value::Absent,
            },
            Builtin::Shared | Builtin::Certificate | Builtin::Covers => {
                // A material's own name is normalised once, at load: use that.
                let norm: Cow<'a, str> = match args.first() {
                    Some(CExpr::Field(inner, Field::MatName)) => match self.eval(inner)? {
                        Value::Material(i, m) => Cow::Borrowed(self.material(i, m)?.norm_name.as_ref()),
                        _ => return Ok(Value::Absent),
                    },
                    _ => match self.text_arg(args)? {
                        Some(s) => Cow::Owned(normalize::name(&s)),
                        None => return Ok(Value::Absent),
                    },
                };
                match b {
                    Builtin::Shared => refs.shared(&norm).map_or(Value::Absent, Value::Shared),
                    Builtin::Certificate => refs.certificate(&norm).map_or(Value::Absent, Value::Certificate),
                    _ => Value::list(refs.covers_of(&norm).map(Value::Cover).collect()),
                }
            }
            Builtin::Citations | Builtin::Waivers => {
                let Some(Value::Item(i)) = args.first().map(|a| self.eval(a)).transpose()? else {
                    return Ok(Value::list(Vec::new()));
                };
                let item = self.item(i)?;
                let count = |basis: usize, waivers: usize| if b == Builtin::Citations { basis } else { waivers };
                let n = item.materials.iter().fold(count(item.basis.len(), item.waivers.len()), |n, m| {
                    n.saturating_add(count(m.basis.len(), m.waivers.len()))
                });
                let mut out = Vec::with_capacity(n);
                let own = |n: usize, owner: Owner, out: &mut Vec<Value<'a>>| {
                    for k in 0..n {
                        let k = u32::try_from(k).unwrap_or(u32::MAX);
                        out.push(if b == Builtin::Citations {
                            Value::Citation(owner, k)
                        } else {
                            Value::Waiver(owner, k)
                        });
                    }
                };
                own(count(item.basis.len(), item.waivers.len()), Owner { item: i, material: None }, &mut out);
                for (m, mat) in item.materials.iter().enumerate() {
                    let owner = Owner { item: i, material: Some(u32::try_from(m).unwrap_or(u32::MAX)) };
                    own(count(mat.basis.len(), mat.waivers.len()), owner, &mut out);
                }
                Value::list(out)
            }
            Builtin::SameCode => {
                let Some(Value::Item(i)) = args.first().map(|a| self.eval(a)).transpose()? else {
                    return Ok(Value::list(Vec::new()));
                };
                let code = &self.item(i)?.code.value;
                Value::List(List::ItemsExcept(self.cx.corpus.items_with_code(code), i))
            }
            Builtin::Preceding => match args.first().map(|a| self.eval(a)).transpose()? {
                Some(Value::Material(i, m)) => Value::List(List::Seq(Seq::Materials(i), 0..m)),
                Some(Value::Step(c, s)) => Value::List(List::Seq(Seq::Steps(c), 0..s)),
                _ => Value::list(Vec::new()),
            },
            Builtin::Date => Value::Absent,
            Builtin::Used => {
                let Some(Value::Waiver(o, w)) = args.first().map(|a| self.eval(a)).transpose()? else {
                    return Ok(Value::Bool(true));
                };
                let waiver = self.waiver(o, w)?;
                // A waiver for a rule that did not run cannot be judged unused.
                let rule_ran =
                    self.cx.program.rules.iter().enumerate().any(|(k, r)| {
                        r.id == waiver.rule.value && self.cx.opts.levels.get(k).copied().flatten().is_some()
                    });
                Value::Bool(!rule_ran || self.cx.used.is_some_and(|u| u.contains(&(o, w))))
            }
            Builtin::InJurisdiction => {
                let (Some(a), Some(r)) = (args.first(), args.get(1)) else { return Ok(Value::Bool(false)) };
                let Value::Item(i) = self.eval(a)? else { return Ok(Value::Bool(false)) };
                let Value::Str(region) = self.eval(r)? else { return Ok(Value::Bool(false)) };
                let item = self.item(i)?;
                let item_region = self.cx.corpus.list(item).and_then(|l| l.region.as_deref());
                Value::Bool(item_region.is_some_and(|ir| refs.region_within(ir, &region)))
            }
        })
    }

    fn field(&self, rec: &Value<'a>, field: Field) -> R<Value<'a>> {
        use Field as F;
        if let Some(t) = self.text_field(rec, field) {
            return Ok(Value::opt_str(t));
        }
        let corpus = self.cx.corpus;
        Ok(match rec {
            Value::Absent => return Err(absent()),
            Value::Item(i) => {
                let it = self.item(*i)?;
                let list = corpus.list(it);
                match field {
                    F::ItemBasis => Value::seq(Seq::Citations(Owner { item: *i, material: None }), it.basis.len()),
                    F::ItemLegalDays => opt(it.legal_days.as_ref(), |v| Value::Int(*v)),
                    F::ItemPromisedDays => opt(it.promised_days.as_ref(), |v| Value::Int(*v)),
                    F::ItemVisits => opt(it.visits.as_ref(), |v| Value::Int(*v)),
                    F::ItemDepartments => Value::list(it.departments.iter().map(|d| Value::str(&d.value)).collect()),
                    F::ItemSteps => opt(it.steps.as_ref(), |v| Value::Int(*v)),
                    F::ItemInHall => opt(it.in_hall.as_ref(), |v| Value::Bool(*v)),
                    F::ItemExtendable => opt(it.extendable.as_ref(), |v| Value::Bool(*v)),
                    F::ItemCitywide => opt(it.citywide.as_ref(), |v| Value::Bool(*v)),
                    F::ItemComplex => Value::list(it.complex.iter().map(|d| Value::str(d.value)).collect()),
                    F::ItemWaivers => Value::seq(Seq::Waivers(Owner { item: *i, material: None }), it.waivers.len()),
                    F::ItemMaterials => Value::seq(Seq::Materials(*i), it.materials.len()),
                    F::ItemRegion => Value::opt_str(list.and_then(|l| l.region.as_deref())),
                    F::ItemCodePattern => match list {
                        Some(l) => Value::Regex(&l.code_pattern),
                        None => return Err(absent()),
                    },
                    F::ItemFile => Value::str(list.map_or("", |l| corpus.sources.name(l.file))),
                    F::ItemListTitle => {
                        Value::opt_str(list.and_then(|l| l.header.title.as_ref()).map(|t| t.value.as_str()))
                    }
                    F::ItemLevel => Value::opt_str(list.and_then(|l| l.header.level.as_ref()).map(|t| t.value)),
                    F::ItemVersion => {
                        Value::opt_str(list.and_then(|l| l.header.version.as_ref()).map(|t| t.value.as_str()))
                    }
                    F::ItemLocation => {
                        let (lc, _) = corpus.sources.line_col(it.code.span);
                        Value::Str(Cow::Owned(format!("{}:{}", corpus.sources.name(it.code.span.file), lc.line)))
                    }
                    _ => return Err(wrong_field()),
                }
            }
            Value::Material(i, m) => {
                let mat = self.material(*i, *m)?;
                let owner = Owner { item: *i, material: Some(*m) };
                match field {
                    F::MatBasis => Value::seq(Seq::Citations(owner), mat.basis.len()),
                    F::MatCopies => opt(mat.copies.as_ref(), |v| Value::Int(*v)),
                    F::MatWaivers => Value::seq(Seq::Waivers(owner), mat.waivers.len()),
                    F::MatItem => Value::Item(*i),
                    F::MatIndex => Value::Int(i64::from(*m)),
                    _ => return Err(wrong_field()),
                }
            }
            Value::Chain(c) => {
                let ch = corpus.chains.get(*c as usize).ok_or_else(wrong_field)?;
                match field {
                    F::ChainName => Value::str(&ch.name.value),
                    F::ChainSteps => Value::seq(Seq::Steps(*c), ch.steps.len()),
                    _ => return Err(wrong_field()),
                }
            }
            Value::Step(c, s) => {
                let code = self.step_code(*c, *s)?;
                match field {
                    F::StepItem => {
                        corpus.items_with_code(&code.value).first().map_or(Value::Absent, |&i| Value::Item(i))
                    }
                    F::StepIndex => Value::Int(i64::from(*s)),
                    F::StepChain => Value::Chain(*c),
                    _ => return Err(wrong_field()),
                }
            }
            Value::Waiver(o, w) => {
                let wv = self.waiver(*o, *w)?;
                match field {
                    F::WaiverExpires => opt(wv.expires.as_ref(), |v| Value::Date(*v)),
                    _ => return Err(wrong_field()),
                }
            }
            Value::Citation(o, c) => {
                let cit = self.citation(*o, *c)?;
                match field {
                    F::CitStatute => {
                        cit.statute.and_then(|s| self.cx.refs.registry.get(s)).map_or(Value::Absent, Value::Statute)
                    }
                    F::CitArticleKnown => Value::Bool(cit.article_known),
                    _ => return Err(wrong_field()),
                }
            }
            Value::Statute(s) => match field {
                F::StatInForce => date_or_absent(s.in_force.as_ref()),
                F::StatRepealed => date_or_absent(s.repealed.as_ref()),
                _ => return Err(wrong_field()),
            },
            Value::Certificate(c) => match field {
                F::CertItems => Value::list(c.items.iter().map(|r| Value::str(r)).collect()),
                _ => return Err(wrong_field()),
            },
            Value::Cover(c) => match field {
                F::CoverReplaces => Value::list(c.replaces.iter().map(|r| Value::str(r)).collect()),
                F::CoverObsolete => Value::Bool(c.obsolete),
                _ => return Err(wrong_field()),
            },
            _ => return Err(wrong_field()),
        })
    }
}

impl<'a> Exec<'a, '_> {
    /// A text field of a record, borrowed: `Some(None)` when the record lacks it, `None` when the
    /// field is not text or the record not one that has it ([`Exec::field`] then answers,
    /// errors included). The one place that knows where each text field lives (a material's, by
    /// the table the compiler and the screens read too, `material_texts!`).
    fn text_field(&self, rec: &Value<'a>, field: Field) -> Option<Option<&'a str>> {
        use crate::compile::cond::text_of as o;
        use Field as F;
        let corpus = self.cx.corpus;
        Some(match rec {
            Value::Material(i, m) => {
                let mat = corpus.items.get(*i as usize)?.materials.get(*m as usize)?;
                material_texts!(field, |read| read(mat), return None)
            }
            Value::Item(i) => {
                let it = corpus.items.get(*i as usize)?;
                match field {
                    F::ItemCode => Some(it.code.value.as_str()),
                    F::ItemName => Some(it.name.value.as_str()),
                    F::ItemType => o(it.item_type.as_ref()),
                    F::ItemDepartment => o(it.department.as_ref()),
                    F::ItemHandling => o(it.handling.as_ref()),
                    F::ItemPromise => o(it.promise.as_ref()),
                    F::ItemOnline => o(it.online.as_ref()),
                    F::ItemSuperior => o(it.superior.as_ref()),
                    F::ItemFee => o(it.fee.as_ref()),
                    _ => return None,
                }
            }
            Value::Step(c, s) => match field {
                F::StepCode => Some(self.step_code(*c, *s).ok()?.value.as_str()),
                _ => return None,
            },
            Value::Waiver(ow, w) => {
                let wv = self.waiver(*ow, *w).ok()?;
                match field {
                    F::WaiverRule => Some(wv.rule.value.as_str()),
                    F::WaiverReason => o(wv.reason.as_ref()),
                    F::WaiverApprovedBy => o(wv.approved_by.as_ref()),
                    _ => return None,
                }
            }
            Value::Citation(ow, c) => {
                let cit = self.citation(*ow, *c).ok()?;
                match field {
                    F::CitText => Some(cit.text.value.as_str()),
                    F::CitArticle => cit.article.as_deref(),
                    _ => return None,
                }
            }
            Value::Statute(s) => match field {
                F::StatId => Some(s.id.as_str()),
                F::StatTitle => Some(s.title.as_str()),
                F::StatLevel => Some(s.level),
                F::StatJurisdiction => Some(s.jurisdiction.as_str()),
                F::StatNumber => s.number.as_deref(),
                _ => return None,
            },
            Value::Shared(s) => match field {
                F::SharedName => Some(s.name.as_str()),
                F::SharedProvider => s.provider.as_deref(),
                F::SharedChannel => Some(s.channel.as_str()),
                _ => return None,
            },
            Value::Certificate(c) => match field {
                F::CertName => Some(c.name.as_str()),
                F::CertIssuer => c.issuer.as_deref(),
                _ => return None,
            },
            Value::Cover(c) => match field {
                F::CoverKept => Some(c.kept.as_str()),
                F::CoverBasis => c.basis.as_deref(),
                _ => return None,
            },
            _ => return None,
        })
    }

    /// The text of a literal, of a text field of a variable, or of a `??` of those, without
    /// evaluating anything: `Some(None)` is absent, `None` not one of these shapes (or a
    /// variable that does not hold a record with the field), left to [`Exec::eval`]. Small
    /// enough to come back in registers, which is what makes conditions cheap.
    #[inline]
    fn fast_text(&self, e: &'a CExpr) -> Option<Option<&'a str>> {
        match e {
            CExpr::Str(s) => Some(Some(s)),
            // A `let` holding text the corpus or the rule owns, or nothing.
            CExpr::Var(slot) => match self.env.get(*slot)? {
                Value::Absent => Some(None),
                Value::Str(Cow::Borrowed(s)) => Some(Some(s)),
                _ => None,
            },
            CExpr::Field(inner, f) => match **inner {
                CExpr::Var(slot) => self.text_field(self.env.get(slot)?, *f),
                _ => None,
            },
            CExpr::Bin(BinOp::Coalesce, a, b) => match self.fast_text(a)? {
                Some(s) => Some(Some(s)),
                None => self.fast_text(b),
            },
            // Absent where the checker proved it present is an error: the general path says so.
            CExpr::Unwrap(inner, _) => match self.fast_text(inner)? {
                Some(s) => Some(Some(s)),
                None => None,
            },
            _ => None,
        }
    }
}

fn wrong_field() -> Box<EvalError> {
    err(tr!("字段与值不匹配", "field does not belong to this value"))
}

fn overflow() -> Box<EvalError> {
    err(tr!("数值溢出", "arithmetic overflow"))
}

/// Which items a list block selects (for `lists`), in corpus order. A list whose condition
/// cannot be evaluated on an item does not select it.
#[must_use]
pub fn list_members(
    list: &crate::compile::CompiledList,
    corpus: &Corpus,
    refs: &References,
    program: &Program,
    as_of: Date,
) -> Vec<u32> {
    let opts = RunOptions::new(as_of, Vec::new());
    let cx = Ctx { corpus, refs, program, opts: &opts, used: None };
    let n = u32::try_from(corpus.items.len()).unwrap_or(u32::MAX);
    (0..n)
        .filter(|&i| {
            let mut ex = Exec::new(&cx, 0, None, &list.steps, list.slots, (0, Value::Item(i)));
            list.steps.iter().all(|step| match step {
                Step::Let(slot, e) => match ex.eval(e) {
                    Ok(v) => {
                        ex.set(*slot, v);
                        true
                    }
                    Err(_) => false,
                },
                Step::When(e) => matches!(ex.eval(e).and_then(|v| bool_of(&v)), Ok(true)),
                Step::For(..) => false,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests may fail loudly")]

    use std::fmt::Write as _;

    use super::*;
    use crate::corpus::config::PolicySource;
    use crate::corpus::load::LoadOptions;

    /// Runs one built-in rule on every item of `yaml`, as `run_root` does, and returns the
    /// number of findings and how many list elements its quantifiers tested.
    fn run_counting(rule_id: &str, yaml: &str) -> (usize, u64) {
        let refs = References::builtin().unwrap();
        let program = crate::policy::load(&[PolicySource::Builtin], &refs).unwrap();
        let corpus = Corpus::from_text("big.yaml", yaml, &refs, None, LoadOptions::default()).unwrap();
        let opts = RunOptions::all(&program, Date::parse("2026-01-01").unwrap());
        let cx = Ctx { corpus: &corpus, refs: &refs, program: &program, opts: &opts, used: None };
        let rule_idx = program.rules.iter().position(|r| r.id == rule_id).unwrap();
        let rule = &program.rules[rule_idx];
        let (mut findings, mut tested) = (0, 0);
        for i in 0..u32::try_from(corpus.items.len()).unwrap() {
            let mut ex =
                Exec::new(&cx, rule_idx, Some(rule), &rule.steps, rule.slots, (rule.root_slot, Value::Item(i)));
            ex.steps(0).unwrap();
            findings += ex.out.len();
            tested += ex.tested;
        }
        (findings, tested)
    }

    /// Runs `steps` from `i` as [`Exec::steps`] does, but decides every `when` both ways — the
    /// in-place reading of [`Exec::test`] and full evaluation — and requires the same answer,
    /// or the same error. Returns how many conditions it compared.
    fn walk_both<'a>(ex: &mut Exec<'a, '_>, i: usize) -> usize {
        let Some(step) = ex.steps.get(i) else { return 0 };
        match step {
            Step::For(slot, list) => {
                let Ok(Value::List(items)) = ex.eval(list) else { return 0 };
                let mut n = 0;
                for it in items.iter() {
                    ex.set(*slot, it);
                    n += walk_both(ex, i + 1);
                }
                n
            }
            Step::Let(slot, e) => match ex.eval(e) {
                Ok(v) => {
                    ex.set(*slot, v);
                    walk_both(ex, i + 1)
                }
                Err(_) => 0,
            },
            Step::When(c) => {
                // A lowered condition is compared with its expression tested both ways.
                let (c, lowered) = match c {
                    CExpr::Cond(lc) => (&lc.1, Some(ex.cond(&lc.0).map_err(|e| e.message))),
                    _ => (c, None),
                };
                let fast = ex.test(c).map_err(|e| e.message);
                let full = ex.eval(c).and_then(|v| bool_of(&v)).map_err(|e| e.message);
                assert_eq!(fast, full, "rule {:?}, condition {c:?}", ex.rule.map(|r| &r.id));
                if let Some(lowered) = lowered {
                    assert_eq!(lowered, full, "rule {:?}, lowered condition {c:?}", ex.rule.map(|r| &r.id));
                }
                1 + if fast == Ok(true) { walk_both(ex, i + 1) } else { 0 }
            }
        }
    }

    #[test]
    fn conditions_read_in_place_answer_as_full_evaluation_does() {
        // Every built-in rule, and a probe rule with absent values, a `let` tested with
        // `exists`, `in`, `empty`, `matches` and an overflow, over items with fields missing,
        // empty, Traditional and odd.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("probe.qd"),
            r#"rule QX001 probe {
  title    zh "探针" en "probe"
  severity error
  cites    yhyshj.第三十五条 "没有法律、法规、规章依据"
  for m in item.materials
  let n = catch_all(m.name)
  when (m.kind ?? "其他") in ["证明", "其他"] or exists(n) or empty(m.note) or m.norm_name matches "证明$"
  when not exists(m.provider) and (m.acquisition ?? "申请人提交") != "内部共享"
  when (item.legal_days ?? 0) + 9223372036854775807 > 0
  at m.name
  message  zh "x" en "x"
  help     zh "x" en "x"
  example pass { materials: [{name: 申请表, kind: 申请表, note: 有}] }
  example fail { legal_days: 0, materials: [{name: 居住证明}] }
}
"#,
        )
        .unwrap();
        let refs = References::builtin().unwrap();
        let program =
            crate::policy::load(&[PolicySource::Builtin, PolicySource::Dir(dir.path().to_path_buf())], &refs).unwrap();
        let yaml = r#"items:
  - code: "230600-XK-0001"
    name: 有法定时限的事项
    legal_days: 20
    promised_days: 30
    basis: [城市房屋拆迁管理条例 第十六条, 行政许可法 第三十条, 某某办法 第一条]
    materials:
      - {name: 居住证明}
      - {name: 其他相关材料, note: ""}
      - {name: 营业执照复印件, acquisition: 申请人提交, source: 其他部门}
      - {name: 营業執照, kind: 证照, provider: 市市场监督管理局}
      - {name: 婚姻状况证明, kind: 证明, note: 视情况提供}
      - {name: 居住证明}
  - code: "230600-XK-0002"
    name: 没有时限的事项
    materials:
      - {name: 申请表, kind: 申请表, note: 有}
      - {name: 组织机构代码证, acquisition: 告知承诺}
  - code: "230600-XK-0002"
    name: 空事项
"#;
        let corpus = Corpus::from_text("probe.yaml", yaml, &refs, None, LoadOptions::default()).unwrap();
        let opts = RunOptions::all(&program, Date::parse("2026-01-01").unwrap());
        let cx = Ctx { corpus: &corpus, refs: &refs, program: &program, opts: &opts, used: None };
        let mut compared = 0;
        for (rule_idx, rule) in program.rules.iter().enumerate().filter(|(_, r)| r.root == Root::Items) {
            for i in 0..u32::try_from(corpus.items.len()).unwrap() {
                let mut ex =
                    Exec::new(&cx, rule_idx, Some(rule), &rule.steps, rule.slots, (rule.root_slot, Value::Item(i)));
                compared += walk_both(&mut ex, 0);
            }
        }
        assert!(compared > 100, "only {compared} conditions compared");
        // The overflow is an error finding on the item with a time limit, not a silent pass.
        let findings = run(&program, &corpus, &refs, &opts);
        let probe = program.rules.iter().position(|r| r.id == "QX001").unwrap();
        let errors: Vec<&Finding> = findings.iter().filter(|f| f.rule == probe && f.eval_error).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].item, Some(0));
        assert!(errors[0].message.contains("数值溢出"), "{}", errors[0].message);
        // Item 0 stops at the error; item 1's 组织机构代码证 passes all three conditions.
        assert_eq!(findings.iter().filter(|f| f.rule == probe && !f.eval_error).count(), 1);
    }

    #[test]
    fn conditions_on_one_material_are_tested_on_it_and_report_what_their_expressions_do() {
        let rule = |id: &str, steps: &str| {
            format!(
                "rule {id} probe {{\n  title zh \"探针\" en \"probe\"\n  severity error\n  \
                 cites yhyshj.第三十五条 \"没有法律、法规、规章依据\"\n{steps}\n  at m.name\n  \
                 message zh \"{{m.name}}\" en \"{{m.name}}\"\n  help zh \"x\" en \"x\"\n  \
                 example pass {{ materials: [] }}\n  \
                 example fail {{ visits: 1, materials: [{{name: 居住证明, kind: 证明, note: 原件}}] }}\n}}\n"
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let probes = [
            // On the material alone: `and`, `or`, `not`, defaults, `in`, lists, `matches`, and a
            // text proved present by an earlier `when`.
            rule(
                "QX010",
                "  for m in item.materials\n  when ((m.kind ?? \"其他\") != \"申请表\" and not empty(m.basis)) \
                 or m.norm_name matches \"证明$\" or (m.source ?? \"申请人\") in [\"本部门\"]",
            ),
            rule("QX011", "  for m in item.materials\n  when exists(m.note)\n  when not (m.note matches \"复印件\")"),
            // Not on the material alone: the item, or two materials.
            rule("QX012", "  for m in item.materials\n  when empty(m.basis) and exists(item.visits)"),
            rule(
                "QX013",
                "  for x in item.materials\n  for m in item.materials\n  \
                 when (x.kind ?? \"其他\") == \"证明\" and (m.kind ?? \"其他\") == \"证明\"",
            ),
        ];
        std::fs::write(dir.path().join("probe.qd"), probes.concat()).unwrap();
        let refs = References::builtin().unwrap();
        let lowered = crate::policy::load(&[PolicySource::Dir(dir.path().to_path_buf())], &refs).unwrap();
        let on_material: Vec<bool> = lowered
            .rules
            .iter()
            .map(|r| r.steps.iter().any(|s| matches!(s, Step::When(CExpr::Cond(c)) if matches!(c.0, Cond::Mat(_)))))
            .collect();
        assert_eq!(on_material, [true, true, false, false]);
        let mut plain = lowered.clone();
        crate::compile::cond::restore_program(&mut plain);
        let yaml = r#"items:
  - code: "230600-XK-0001"
    name: 事项
    visits: 1
    materials:
      - {name: 居住证明}
      - {name: 申请表, kind: 申请表, basis: [行政许可法 第三十条]}
      - {name: 营业执照复印件, kind: 证照, basis: [行政许可法 第三十条], note: 复印件}
      - {name: 无犯罪记录证明, kind: 证明, source: 本部门, note: 原件}
      - {name: 章程, note: ""}
  - code: "230600-XK-0002"
    name: 没有材料的事项
"#;
        let corpus = Corpus::from_text("probe.yaml", yaml, &refs, None, LoadOptions::default()).unwrap();
        let opts = RunOptions::all(&lowered, Date::parse("2026-01-01").unwrap());
        let show = |p: &Program| {
            let mut out = String::new();
            for f in run(p, &corpus, &refs, &opts) {
                writeln!(out, "{} {:?} {:?} {}", p.rules[f.rule].id, f.item, f.material, f.message).unwrap();
            }
            out
        };
        let (a, b) = (show(&lowered), show(&plain));
        assert_eq!(a, b);
        assert_eq!(a.matches("QX010").count(), 3, "{a}");
        assert_eq!(a.matches("QX011").count(), 2, "{a}");
    }

    #[test]
    fn duplicate_materials_in_a_huge_item_take_linear_work() {
        // QD106 asks, for each material, for the first earlier one with the same name: a scan
        // of `preceding(m)` would test n²/2 = 200,000,000 pairs here.
        let n = 20_000;
        let mut yaml = String::from("items:\n  - code: \"230600-XK-0001\"\n    name: 大事项\n    materials:\n");
        for k in 0..n {
            // Every tenth name repeats an earlier one.
            let name = if k % 10 == 9 { k - 5 } else { k };
            writeln!(yaml, "      - name: 材料{name}").unwrap();
        }
        let (findings, tested) = run_counting("QD106", &yaml);
        assert_eq!(findings, n / 10);
        assert!(tested <= 2 * n as u64, "{tested} elements tested for {n} materials");
    }

    #[test]
    fn materials_of_a_short_list_are_tested_only_when_their_field_matches() {
        // QD106 on items of fewer materials than an index pays for: each material's earlier
        // ones are compared in place, and only those with the same name bound and tested.
        let mut yaml = String::from("items:\n");
        for i in 0..100 {
            writeln!(yaml, "  - code: \"230600-XK-{i:04}\"\n    name: 事项{i}\n    materials:").unwrap();
            for name in ["营业执照", "身份证明", "营业执照", "申请书", "身份证明", "营业执照"] {
                writeln!(yaml, "      - name: {name}").unwrap();
            }
        }
        let (findings, tested) = run_counting("QD106", &yaml);
        // Per item: the second and third 营业执照 and the second 身份证明.
        assert_eq!(findings, 300);
        // Per item: 营业执照 #3 finds #1 first; 身份证明 #5 finds #2; 营业执照 #6 finds #1.
        assert_eq!(tested, 300);
    }

    #[test]
    fn a_code_shared_by_many_items_takes_linear_work() {
        // QD302 counts the other items with the item's code and shows the first: building that
        // list for each item would be 400,000,000 steps here.
        let n = 20_000;
        let mut yaml = String::from("items:\n");
        for k in 0..n {
            writeln!(yaml, "  - {{code: \"230600-XK-0001\", name: 事项{k}}}").unwrap();
        }
        let (findings, tested) = run_counting("QD302", &yaml);
        assert_eq!(findings, n);
        assert!(tested <= 2 * n as u64, "{tested} elements tested for {n} items");
        // And the list itself is not built: it is the code's index slice, less the item.
        let args = [CExpr::Var(0)];
        let refs = References::builtin().unwrap();
        let program = Program::default();
        let corpus = Corpus::from_text("big.yaml", &yaml, &refs, None, LoadOptions::default()).unwrap();
        let opts = RunOptions::new(Date::parse("2026-01-01").unwrap(), Vec::new());
        let cx = Ctx { corpus: &corpus, refs: &refs, program: &program, opts: &opts, used: None };
        let mut ex = Exec::new(&cx, 0, None, &[], 1, (0, Value::Item(7)));
        let Value::List(others) = ex.call(Builtin::SameCode, &args).unwrap() else { panic!("not a list") };
        assert!(matches!(others, List::ItemsExcept(..)));
        assert_eq!(others.len(), n - 1);
        assert!(others.iter().all(|v| !matches!(v, Value::Item(7))));
    }
}
