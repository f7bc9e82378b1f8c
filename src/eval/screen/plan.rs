//! How a rule becomes a screen: which operation ([`super::ops`]) runs each of its steps and
//! expressions. The choice is made once, here, for two makers ([`Maker`]): [`Boxed`] builds the
//! closures at once (any rule, when its policy is compiled), [`Source`] writes the same calls as
//! Rust (the screens generated ahead of time for the built-in rules). The text [`Source`] writes
//! for a rule is also how a compiled rule finds its generated screen: equal texts, equal calls.

use std::sync::Arc;

use super::ops::{self, CdF, ExF, GoF, MatRead, MtF};
use super::{Const, Consts, V};
use crate::compile::cond::{Cond, Leaf, Len, MatCond, MatText, material_text};
use crate::compile::types::{Builtin, Field};
use crate::compile::{CExpr, Lookup, Step};
use crate::syntax::ast::{BinOp, QuantKind};

pub type Ex = Box<dyn ExF>;
pub type Cd = Box<dyn CdF>;
pub type Go = Box<dyn GoF>;
pub type Mt = Box<dyn MtF>;
/// A condition's fixed answer ([`ops::answer`]).
type Answer = Option<bool>;
/// A fixed value ([`ops::always`]).
type Always = Option<V<'static>>;
/// What a [`ops::lookup`] quantifies: its kind, its variable and the field it compares.
type What = (QuantKind, usize, Field);

/// A value passed to an operation as it is (a slot, a field, an operator …): [`Source`] writes
/// it as a Rust expression.
pub trait Arg {
    fn rust(&self) -> String;
}

/// `Arg` for types written as they print (`Display`), or as `Type::Variant` (`Debug`).
macro_rules! args {
    (display: $($t:ty),*; variants: $($e:ident),*) => {
        $(impl Arg for $t {
            fn rust(&self) -> String {
                self.to_string()
            }
        })*
        $(impl Arg for $e {
            fn rust(&self) -> String {
                format!("{}::{self:?}", stringify!($e))
            }
        })*
    };
}

args!(display: usize, bool; variants: Field, Builtin, BinOp, QuantKind);

impl Arg for Option<bool> {
    fn rust(&self) -> String {
        format!("{self:?}")
    }
}

impl Arg for Option<V<'static>> {
    fn rust(&self) -> String {
        match self {
            Some(v) => format!("Some({})", v.rust()),
            None => "None".to_string(),
        }
    }
}

impl Arg for V<'static> {
    fn rust(&self) -> String {
        match self {
            V::Absent => "V::Absent".to_string(),
            V::Bool(b) => format!("V::Bool({b})"),
            V::Int(n) => format!("V::Int({n})"),
            V::Date(d) => format!("V::Date(Date {{ year: {}, month: {}, day: {} }})", d.year, d.month, d.day),
            // Only literals are passed as values (`Builder::constant` makes no other): were another
            // ever written, the generated screens would not build.
            _ => "compile_error!(\"a value that is not a literal\")".to_string(),
        }
    }
}

impl Arg for Const {
    fn rust(&self) -> String {
        match self {
            Const::V(v) => format!("Const::V({})", v.rust()),
            Const::Text(k) => format!("Const::Text({k})"),
            Const::List(k) => format!("Const::List({k})"),
        }
    }
}

impl Arg for MatRead {
    fn rust(&self) -> String {
        format!("MatRead {{ field: {}, default: {:?}, present: {} }}", self.field.rust(), self.default, self.present)
    }
}

impl Arg for (QuantKind, usize, Field) {
    fn rust(&self) -> String {
        format!("({}, {}, {})", self.0.rust(), self.1.rust(), self.2.rust())
    }
}

/// Declares [`Maker`], one method per operation of [`super::ops`] (its parts: `Ex`, `Cd` and `Go`
/// are made parts, anything else an [`Arg`]), and the two makers: [`Boxed`] calls the
/// operation and boxes its closure (or, after `=>`, a function that makes the same closure
/// specialised when it is built), [`Source`] writes the call.
macro_rules! makers {
    ($($op:ident($($p:ident: $t:tt),*) -> $r:tt $(=> $boxed:path)?;)*) => {
        pub trait Maker {
            type Ex;
            type Cd;
            type Go;
            type Mt;
            $(fn $op(&mut self, $($p: makers!(@ty $t)),*) -> makers!(@ty $r);)*
        }

        impl Maker for Boxed {
            type Ex = Ex;
            type Cd = Cd;
            type Go = Go;
            type Mt = Mt;
            $(fn $op(&mut self, $($p: makers!(@ty $t)),*) -> makers!(@ty $r) {
                makers!(@boxed $op $($boxed)?; $($p),*)
            })*
        }

        impl Maker for Source {
            type Ex = String;
            type Cd = String;
            type Go = String;
            type Mt = String;
            $(fn $op(&mut self, $($p: makers!(@ty $t)),*) -> String {
                let parts: Vec<String> = vec![$(makers!(@rust $t $p)),*];
                format!("ops::{}({})", stringify!($op), parts.join(", "))
            })*
        }
    };
    (@boxed $op:ident; $($p:ident),*) => { Box::new(ops::$op($($p),*)) };
    (@boxed $op:ident $boxed:path; $($p:ident),*) => { $boxed($($p),*) };
    (@ty Ex) => { Self::Ex };
    (@ty Cd) => { Self::Cd };
    (@ty Go) => { Self::Go };
    (@ty Mt) => { Self::Mt };
    (@ty $t:ident) => { $t };
    (@rust Ex $p:ident) => { $p };
    (@rust Cd $p:ident) => { $p };
    (@rust Go $p:ident) => { $p };
    (@rust Mt $p:ident) => { $p };
    (@rust $t:tt $p:ident) => { $p.rust() };
}

makers! {
    done() -> Go;
    let_(slot: usize, e: Ex, next: Go) -> Go;
    when(c: Cd, next: Go) -> Go;
    for_(slot: usize, list: Ex, next: Go) -> Go;
    for_tested(slot: usize, list: Ex, test: usize, next: Go) -> Go;
    for_mat(slot: usize, list: Ex, test: Mt, next: Go) -> Go;
    mat_test(slot: usize, test: usize) -> Cd;
    mat_cond(slot: usize, test: Mt) -> Cd;
    mt_and(a: Mt, b: Mt) -> Mt;
    mt_or(a: Mt, b: Mt) -> Mt;
    mt_not(a: Mt) -> Mt;
    mt_none(any: bool) -> Mt;
    mt_eq(r: MatRead, lit: usize, eq: bool) -> Mt;
    mt_in(r: MatRead, set: usize, is_in: bool) -> Mt;
    mt_exists(r: MatRead, exists: bool) -> Mt;
    mt_list_exists(f: Field, exists: bool) -> Mt;
    mt_matches(r: MatRead, re: usize) -> Mt;
    and(a: Cd, b: Cd) -> Cd;
    or(a: Cd, b: Cd) -> Cd;
    not(a: Cd) -> Cd;
    is_empty_cd(a: Ex) -> Cd;
    exists_var(slot: usize) -> Cd;
    exists_cd(a: Ex) -> Cd;
    answer(answer: Answer) -> Cd;
    text_is(a: Ex, eq: bool, lit: usize) -> Cd;
    truth_of(e: Ex) -> Cd;
    truth(c: Cd) -> Ex;
    constant(c: Const) -> Ex;
    always(v: Always) -> Ex;
    regex(k: usize) -> Ex;
    list_end() -> Ex;
    list_item(head: Ex, rest: Ex) -> Ex;
    var(slot: usize) -> Ex;
    as_of() -> Ex;
    var_field(slot: usize, f: Field) -> Ex => super::var_field;
    field_of(inner: Ex, f: Field) -> Ex;
    unwrap(inner: Ex) -> Ex;
    if_const(c: Cd, a: Const, b: Const) -> Ex;
    if_(c: Cd, a: Ex, b: Ex) -> Ex;
    neg(a: Ex) -> Ex;
    coalesce(a: Ex, b: Ex) -> Ex;
    binary(op: BinOp, a: Ex, b: Ex) -> Ex;
    quant(kind: QuantKind, slot: usize, list: Ex, cond: Cd) -> Ex;
    lookup(plain: Ex, what: What, list: Ex, key: Ex, cond: Cd) -> Ex;
    exists(arg: Ex) -> Ex;
    empty(arg: Ex) -> Ex;
    count(arg: Ex) -> Ex;
    norm(arg: Ex) -> Ex;
    catch_all(arg: Ex) -> Ex;
    catch_all_of(mat: Ex, note: bool) -> Ex;
    table_by_own_name(b: Builtin, mat: Ex) -> Ex;
    table_by(b: Builtin, arg: Ex) -> Ex;
    owned(b: Builtin, arg: Ex) -> Ex;
    same_code(arg: Ex) -> Ex;
    preceding(arg: Ex) -> Ex;
}

/// A condition on one material, as a screen tests it.
enum Test<T> {
    /// Made of operations.
    Made(T),
    /// The compiler's own test, `k` of the table.
    Compiled(usize),
}

/// Makes the closures of a screen at once.
pub struct Boxed;

/// Writes the calls of a screen as Rust.
pub struct Source;

/// Chooses the operations of one rule's screen and gathers the literals they read.
pub struct Builder<M: Maker> {
    pub maker: M,
    pub consts: Consts,
    /// The material test of the `when` after the loop being built.
    pending_filter: Option<Test<M::Mt>>,
}

impl<M: Maker> Builder<M> {
    pub fn new(maker: M) -> Self {
        Builder { maker, consts: Consts::default(), pending_filter: None }
    }

    /// The rule's steps up to its last `when`, `steps`, as one [`Maker::Go`].
    pub fn steps(&mut self, steps: &[Step]) -> M::Go {
        let mut go = self.maker.done();
        for (i, step) in steps.iter().enumerate().rev() {
            // A `when` on the material a loop just bound is tested by the loop itself.
            if let Step::When(CExpr::Cond(c)) = step
                && let Cond::Mat(mc) = &c.0
                && let Some(Step::For(slot, _)) = i.checked_sub(1).and_then(|p| steps.get(p))
                && *slot == mc.slot
            {
                self.pending_filter = Some(self.material(mc));
                continue;
            }
            go = self.step(step, go);
        }
        go
    }

    fn step(&mut self, step: &Step, next: M::Go) -> M::Go {
        match step {
            Step::Let(slot, e) => {
                let e = self.ex(e);
                self.maker.let_(*slot, e, next)
            }
            Step::When(c) => {
                let c = self.cond(c);
                self.maker.when(c, next)
            }
            Step::For(slot, list) => {
                let list = self.ex(list);
                match self.pending_filter.take() {
                    Some(Test::Made(test)) => self.maker.for_mat(*slot, list, test, next),
                    Some(Test::Compiled(test)) => self.maker.for_tested(*slot, list, test, next),
                    None => self.maker.for_(*slot, list, next),
                }
            }
        }
    }

    /// A condition on one material: made of operations where its parts are those the compiler's
    /// material test is made of ([`crate::compile::cond`]), else that test itself, from the table.
    fn material(&mut self, mc: &MatCond) -> Test<M::Mt> {
        let before = self.consts.sizes();
        if let Some(t) = self.mt(&mc.cond, mc.slot) {
            return Test::Made(t);
        }
        // What the attempt added to the table is not read.
        self.consts.truncate(before);
        self.consts.tests.push(mc.test.clone());
        Test::Compiled(self.consts.tests.len().saturating_sub(1))
    }

    /// `c` as [`crate::compile::cond::material_test`] builds it, of the material in `slot`.
    fn mt(&mut self, c: &Cond, slot: usize) -> Option<M::Mt> {
        Some(match c {
            Cond::All(parts) | Cond::Any(parts) => {
                // `and` stops at the first false operand, `or` at the first true one: nested
                // from the right, they stop where the compiler's loop stops.
                let any = matches!(c, Cond::Any(_));
                let mut tests = parts.iter().map(|p| self.mt(p, slot)).collect::<Option<Vec<_>>>()?;
                let mut test = match tests.pop() {
                    Some(t) => t,
                    None => return Some(self.maker.mt_none(any)),
                };
                while let Some(t) = tests.pop() {
                    test = if any { self.maker.mt_or(t, test) } else { self.maker.mt_and(t, test) };
                }
                test
            }
            Cond::Not(a) => {
                let a = self.mt(a, slot)?;
                self.maker.mt_not(a)
            }
            Cond::Leaf(leaf, _) => match &**leaf {
                Leaf::MatEq(t, lit, eq) if t.slot == slot => {
                    let (r, lit) = (self.mat_read(t)?, self.text(lit));
                    self.maker.mt_eq(r, lit, *eq)
                }
                Leaf::MatIn(t, set, is_in) if t.slot == slot => {
                    let r = self.mat_read(t)?;
                    self.consts.sets.push(set.clone());
                    let set = self.consts.sets.len().saturating_sub(1);
                    self.maker.mt_in(r, set, *is_in)
                }
                Leaf::MatExists(t, exists) if t.slot == slot => {
                    let r = self.mat_read(t)?;
                    self.maker.mt_exists(r, *exists)
                }
                Leaf::ListExists(Len::Material(s, _, f), exists) if *s == slot => {
                    self.maker.mt_list_exists(*f, *exists)
                }
                Leaf::Matches(t, re) => {
                    let r = MatText::of(t).filter(|t| t.slot == slot)?;
                    let r = self.mat_read(&r)?;
                    self.consts.regexes.push(re.clone());
                    let re = self.consts.regexes.len().saturating_sub(1);
                    self.maker.mt_matches(r, re)
                }
                _ => return None,
            },
            Cond::Other(_) | Cond::Mat(_) => return None,
        })
    }

    /// How [`ops::MatRead`] reads `t`: its default held in the table.
    fn mat_read(&mut self, t: &MatText) -> Option<MatRead> {
        material_text(t.field)?;
        let default = t.default.as_ref().map(|d| self.text(d));
        Some(MatRead { field: t.field, default, present: t.present })
    }

    /// A condition: `Some(answer)`, or `None` to give up (which includes a value that is not a
    /// yes or no, an evaluation error for the interpreter).
    fn cond(&mut self, e: &CExpr) -> M::Cd {
        match e {
            CExpr::Cond(c) => match &c.0 {
                // A condition on one material: the compiler's own function of the material.
                Cond::Mat(mc) => match self.material(mc) {
                    Test::Made(test) => self.maker.mat_cond(mc.slot, test),
                    Test::Compiled(test) => self.maker.mat_test(mc.slot, test),
                },
                _ => self.cond(&c.1),
            },
            CExpr::Bin(BinOp::And, a, b) => {
                let (a, b) = (self.cond(a), self.cond(b));
                self.maker.and(a, b)
            }
            CExpr::Bin(BinOp::Or, a, b) => {
                let (a, b) = (self.cond(a), self.cond(b));
                self.maker.or(a, b)
            }
            CExpr::Not(a) => {
                let a = self.cond(a);
                self.maker.not(a)
            }
            // The commonest tests answered without making a value first.
            CExpr::Call(Builtin::Empty, args) if args.len() == 1 => match args.first() {
                Some(a) => {
                    let a = self.ex(a);
                    self.maker.is_empty_cd(a)
                }
                None => self.maker.answer(None),
            },
            CExpr::Call(Builtin::Exists, args) if args.len() == 1 => match args.first() {
                Some(CExpr::Var(slot)) => self.maker.exists_var(*slot),
                Some(a) => {
                    let a = self.ex(a);
                    self.maker.exists_cd(a)
                }
                None => self.maker.answer(Some(false)),
            },
            // `x == "字面"`, `x != "字面"`: the literal compared where it lies.
            CExpr::Bin(op @ (BinOp::Eq | BinOp::Ne), a, b) if literal_text(a, b).is_some() => {
                let Some((other, lit)) = literal_text(a, b) else { return self.maker.answer(None) };
                let (a, lit) = (self.ex(other), self.text(lit));
                self.maker.text_is(a, *op == BinOp::Eq, lit)
            }
            _ => {
                let e = self.ex(e);
                self.maker.truth_of(e)
            }
        }
    }

    /// A condition as a value.
    fn truth(&mut self, e: &CExpr) -> M::Ex {
        let c = self.cond(e);
        self.maker.truth(c)
    }

    /// A literal, or a list of literals ([`is_constant`]), as a [`Const`] (its text or list
    /// held in the screen's table); `None` for anything else.
    fn constant(&mut self, e: &CExpr) -> Option<Const> {
        Some(match e {
            CExpr::Bool(b) => Const::V(V::Bool(*b)),
            CExpr::Int(n) => Const::V(V::Int(*n)),
            CExpr::Date(d) => Const::V(V::Date(*d)),
            CExpr::Str(s) => Const::Text(self.text(s)),
            CExpr::List(items) if items.iter().all(crate::eval::is_literal) => {
                self.consts.lists.push(items.clone());
                Const::List(self.consts.lists.len().saturating_sub(1))
            }
            _ => return None,
        })
    }

    fn text(&mut self, s: &Arc<str>) -> usize {
        self.consts.texts.push(s.clone());
        self.consts.texts.len().saturating_sub(1)
    }

    fn ex(&mut self, e: &CExpr) -> M::Ex {
        if let Some(c) = self.constant(e) {
            return self.maker.constant(c);
        }
        match e {
            // Literals are constants, answered above.
            CExpr::Bool(_) | CExpr::Int(_) | CExpr::Date(_) | CExpr::Str(_) => self.maker.always(None),
            CExpr::Regex(r) => {
                self.consts.regexes.push(r.clone());
                let k = self.consts.regexes.len().saturating_sub(1);
                self.maker.regex(k)
            }
            CExpr::List(items) => {
                let items: Vec<M::Ex> = items.iter().map(|i| self.ex(i)).collect();
                let mut list = self.maker.list_end();
                for i in items.into_iter().rev() {
                    list = self.maker.list_item(i, list);
                }
                list
            }
            CExpr::Var(slot) => self.maker.var(*slot),
            CExpr::AsOf => self.maker.as_of(),
            CExpr::Field(inner, f) => {
                if let CExpr::Var(slot) = **inner {
                    return self.maker.var_field(slot, *f);
                }
                let inner = self.ex(inner);
                self.maker.field_of(inner, *f)
            }
            CExpr::Unwrap(inner, _) => {
                let inner = self.ex(inner);
                self.maker.unwrap(inner)
            }
            CExpr::Call(b, args) => self.call(*b, args),
            CExpr::Quant(kind, slot, list, cond) => self.quant(*kind, *slot, list, cond),
            CExpr::Lookup(q) => self.lookup(q),
            // `if c then [..] else []` and the like: the branches read where they lie, not run.
            CExpr::If(c, a, b) if is_constant(a) && is_constant(b) => {
                let (c, a, b) = (self.cond(c), self.constant(a), self.constant(b));
                let (Some(a), Some(b)) = (a, b) else { return self.maker.always(None) };
                self.maker.if_const(c, a, b)
            }
            CExpr::If(c, a, b) => {
                let (c, a, b) = (self.cond(c), self.ex(a), self.ex(b));
                self.maker.if_(c, a, b)
            }
            CExpr::Not(_) | CExpr::Cond(_) | CExpr::Bin(BinOp::And | BinOp::Or, ..) => self.truth(e),
            CExpr::Bin(BinOp::Eq | BinOp::Ne, a, b) if literal_text(a, b).is_some() => self.truth(e),
            CExpr::Neg(a) => {
                let a = self.ex(a);
                self.maker.neg(a)
            }
            CExpr::Bin(op, a, b) => {
                let (a, b) = (self.ex(a), self.ex(b));
                match op {
                    BinOp::Coalesce => self.maker.coalesce(a, b),
                    _ => self.maker.binary(*op, a, b),
                }
            }
            // Every record of the corpus: the loops these make are the interpreter's to run.
            CExpr::Items | CExpr::Chains => self.maker.always(None),
        }
    }

    /// A [`CExpr::Lookup`] as the interpreter runs it on an item's materials ([`ops::lookup`]);
    /// elsewhere the plain quantifier, which tests the same elements (the condition starts with
    /// the equality, and `and` stops there on the others).
    fn lookup(&mut self, q: &Lookup) -> M::Ex {
        let plain = self.quant(q.kind, q.slot, &q.list, &q.cond);
        if material_text(q.field).is_none() {
            return plain;
        }
        let (list, key, cond) = (self.ex(&q.list), self.ex(&q.key), self.cond(&q.cond));
        self.maker.lookup(plain, (q.kind, q.slot, q.field), list, key, cond)
    }

    fn quant(&mut self, kind: QuantKind, slot: usize, list: &CExpr, cond: &CExpr) -> M::Ex {
        let (list, cond) = (self.ex(list), self.cond(cond));
        self.maker.quant(kind, slot, list, cond)
    }

    fn call(&mut self, b: Builtin, args: &[CExpr]) -> M::Ex {
        // A material's own name is normalised once, at load, as the interpreter uses it.
        if let (Builtin::Shared | Builtin::Certificate | Builtin::Covers, Some(CExpr::Field(inner, Field::MatName))) =
            (b, args.first())
        {
            let mat = self.ex(inner);
            return self.maker.table_by_own_name(b, mat);
        }
        // Its catch-all phrase, and its note's, are found once per text the loader shares.
        if let (Builtin::CatchAll, Some(CExpr::Field(inner, f @ (Field::MatName | Field::MatNote)))) = (b, args.first())
        {
            let mat = self.ex(inner);
            return self.maker.catch_all_of(mat, *f == Field::MatNote);
        }
        // The first argument; a call without one is given an absent value, as the interpreter does.
        let arg = match args.first() {
            Some(a) => self.ex(a),
            None => self.maker.always(Some(V::Absent)),
        };
        match b {
            Builtin::Exists => self.maker.exists(arg),
            Builtin::Empty => self.maker.empty(arg),
            Builtin::Count => self.maker.count(arg),
            Builtin::Norm => self.maker.norm(arg),
            Builtin::CatchAll => self.maker.catch_all(arg),
            Builtin::Shared | Builtin::Certificate | Builtin::Covers => self.maker.table_by(b, arg),
            Builtin::Citations | Builtin::Waivers => self.maker.owned(b, arg),
            Builtin::SameCode => self.maker.same_code(arg),
            Builtin::Preceding => self.maker.preceding(arg),
            Builtin::Date => self.maker.always(Some(V::Absent)),
            // What other rules found (`used`), and the region tree: the interpreter's to answer.
            Builtin::Used | Builtin::InJurisdiction => self.maker.always(None),
        }
    }
}

fn is_constant(e: &CExpr) -> bool {
    crate::eval::is_literal(e) || matches!(e, CExpr::List(items) if items.iter().all(crate::eval::is_literal))
}

/// The other operand and the text of a comparison with a text literal.
fn literal_text<'e>(a: &'e CExpr, b: &'e CExpr) -> Option<(&'e CExpr, &'e Arc<str>)> {
    match (a, b) {
        (_, CExpr::Str(lit)) => Some((a, lit)),
        (CExpr::Str(lit), _) => Some((b, lit)),
        _ => None,
    }
}
