//! Types of the policy language, the fields of each record and the built-in functions.

use std::fmt;

use crate::corpus::model::{
    ACQUISITION, CHANNEL, COMPLEX, Domain, FORMAT, HANDLING, ITEM_TYPE, LEVEL, MATERIAL_KIND, ONLINE, PROMISE, SOURCE,
    STATUTE_LEVEL,
};

/// A record: a value with fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rec {
    Item,
    Material,
    Chain,
    Step,
    Waiver,
    Citation,
    Statute,
    Shared,
    Certificate,
    Cover,
}

impl Rec {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Rec::Item => "item",
            Rec::Material => "material",
            Rec::Chain => "chain",
            Rec::Step => "step",
            Rec::Waiver => "waiver",
            Rec::Citation => "citation",
            Rec::Statute => "statute",
            Rec::Shared => "shared-entry",
            Rec::Certificate => "certificate",
            Rec::Cover => "cover",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Int,
    Str,
    /// A string from a closed set (事项类型 …): literals compared with it are checked.
    Enum(&'static Domain),
    Date,
    Regex,
    List(Box<Ty>),
    /// A value that may be absent.
    Opt(Box<Ty>),
    Rec(Rec),
    /// The type of `[]` before it meets another list.
    Any,
}

impl Ty {
    #[must_use]
    pub fn opt(t: Ty) -> Ty {
        match t {
            Ty::Opt(_) => t,
            t => Ty::Opt(Box::new(t)),
        }
    }

    #[must_use]
    pub fn list(t: Ty) -> Ty {
        Ty::List(Box::new(t))
    }

    /// The type without `Opt`.
    #[must_use]
    pub fn inner(&self) -> &Ty {
        match self {
            Ty::Opt(t) => t,
            t => t,
        }
    }

    #[must_use]
    pub fn is_opt(&self) -> bool {
        matches!(self, Ty::Opt(_))
    }

    /// Strings and enums compare with each other.
    #[must_use]
    pub fn is_text(&self) -> bool {
        matches!(self, Ty::Str | Ty::Enum(_))
    }

    /// Can values of these types be compared with `==`?
    #[must_use]
    pub fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (a, b) if a == b => true,
            (Ty::Any, _) | (_, Ty::Any) => true,
            (a, b) if a.is_text() && b.is_text() => true,
            (Ty::List(a), Ty::List(b)) => a.comparable(b),
            _ => false,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Str => f.write_str("string"),
            Ty::Enum(d) => write!(f, "{}", d.name),
            Ty::Date => f.write_str("date"),
            Ty::Regex => f.write_str("regex"),
            Ty::List(t) => write!(f, "list of {t}"),
            Ty::Opt(t) => write!(f, "optional {t}"),
            Ty::Rec(r) => f.write_str(r.name()),
            Ty::Any => f.write_str("any"),
        }
    }
}

/// Every field the language can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    ItemCode,
    ItemName,
    ItemType,
    ItemDepartment,
    ItemBasis,
    ItemHandling,
    ItemPromise,
    ItemLegalDays,
    ItemPromisedDays,
    ItemVisits,
    ItemOnline,
    ItemDepartments,
    ItemSteps,
    ItemInHall,
    ItemExtendable,
    ItemCitywide,
    ItemComplex,
    ItemSuperior,
    ItemFee,
    ItemWaivers,
    ItemMaterials,
    ItemRegion,
    ItemCodePattern,
    ItemFile,
    ItemListTitle,
    ItemLevel,
    ItemVersion,
    ItemLocation,
    MatName,
    MatKind,
    MatSource,
    MatAcquisition,
    MatProvider,
    MatBasis,
    MatCopies,
    MatFormat,
    MatNote,
    MatWaivers,
    MatItem,
    MatIndex,
    MatNormName,
    ChainName,
    ChainSteps,
    StepCode,
    StepItem,
    StepIndex,
    StepChain,
    WaiverRule,
    WaiverReason,
    WaiverApprovedBy,
    WaiverExpires,
    CitText,
    CitStatute,
    CitArticle,
    CitArticleKnown,
    StatId,
    StatTitle,
    StatLevel,
    StatInForce,
    StatRepealed,
    StatJurisdiction,
    StatNumber,
    SharedName,
    SharedProvider,
    SharedChannel,
    CertName,
    CertIssuer,
    CertItems,
    CoverKept,
    CoverReplaces,
    CoverObsolete,
    CoverBasis,
}

fn opt(t: Ty) -> Ty {
    Ty::opt(t)
}

/// The fields of a record: name, field, type.
#[must_use]
pub fn fields(rec: Rec) -> Vec<(&'static str, Field, Ty)> {
    use Field as F;
    match rec {
        Rec::Item => vec![
            ("code", F::ItemCode, Ty::Str),
            ("name", F::ItemName, Ty::Str),
            ("type", F::ItemType, opt(Ty::Enum(&ITEM_TYPE))),
            ("department", F::ItemDepartment, opt(Ty::Str)),
            ("basis", F::ItemBasis, Ty::list(Ty::Rec(Rec::Citation))),
            ("handling", F::ItemHandling, opt(Ty::Enum(&HANDLING))),
            ("promise", F::ItemPromise, opt(Ty::Enum(&PROMISE))),
            ("legal_days", F::ItemLegalDays, opt(Ty::Int)),
            ("promised_days", F::ItemPromisedDays, opt(Ty::Int)),
            ("visits", F::ItemVisits, opt(Ty::Int)),
            ("online", F::ItemOnline, opt(Ty::Enum(&ONLINE))),
            ("departments", F::ItemDepartments, Ty::list(Ty::Str)),
            ("steps", F::ItemSteps, opt(Ty::Int)),
            ("in_hall", F::ItemInHall, opt(Ty::Bool)),
            ("extendable", F::ItemExtendable, opt(Ty::Bool)),
            ("citywide", F::ItemCitywide, opt(Ty::Bool)),
            ("complex", F::ItemComplex, Ty::list(Ty::Enum(&COMPLEX))),
            ("superior", F::ItemSuperior, opt(Ty::Str)),
            ("fee", F::ItemFee, opt(Ty::Str)),
            ("waivers", F::ItemWaivers, Ty::list(Ty::Rec(Rec::Waiver))),
            ("materials", F::ItemMaterials, Ty::list(Ty::Rec(Rec::Material))),
            ("region", F::ItemRegion, opt(Ty::Str)),
            ("code_pattern", F::ItemCodePattern, Ty::Regex),
            ("file", F::ItemFile, Ty::Str),
            ("list_title", F::ItemListTitle, opt(Ty::Str)),
            ("level", F::ItemLevel, opt(Ty::Enum(&LEVEL))),
            ("version", F::ItemVersion, opt(Ty::Str)),
            ("location", F::ItemLocation, Ty::Str),
        ],
        Rec::Material => vec![
            ("name", F::MatName, Ty::Str),
            ("kind", F::MatKind, opt(Ty::Enum(&MATERIAL_KIND))),
            ("source", F::MatSource, opt(Ty::Enum(&SOURCE))),
            ("acquisition", F::MatAcquisition, opt(Ty::Enum(&ACQUISITION))),
            ("provider", F::MatProvider, opt(Ty::Str)),
            ("basis", F::MatBasis, Ty::list(Ty::Rec(Rec::Citation))),
            ("copies", F::MatCopies, opt(Ty::Int)),
            ("format", F::MatFormat, opt(Ty::Enum(&FORMAT))),
            ("note", F::MatNote, opt(Ty::Str)),
            ("waivers", F::MatWaivers, Ty::list(Ty::Rec(Rec::Waiver))),
            ("item", F::MatItem, Ty::Rec(Rec::Item)),
            ("index", F::MatIndex, Ty::Int),
            ("norm_name", F::MatNormName, Ty::Str),
        ],
        Rec::Chain => vec![("name", F::ChainName, Ty::Str), ("steps", F::ChainSteps, Ty::list(Ty::Rec(Rec::Step)))],
        Rec::Step => vec![
            ("code", F::StepCode, Ty::Str),
            ("item", F::StepItem, opt(Ty::Rec(Rec::Item))),
            ("index", F::StepIndex, Ty::Int),
            ("chain", F::StepChain, Ty::Rec(Rec::Chain)),
        ],
        Rec::Waiver => vec![
            ("rule", F::WaiverRule, Ty::Str),
            ("reason", F::WaiverReason, opt(Ty::Str)),
            ("approved_by", F::WaiverApprovedBy, opt(Ty::Str)),
            ("expires", F::WaiverExpires, opt(Ty::Date)),
        ],
        Rec::Citation => vec![
            ("text", F::CitText, Ty::Str),
            ("statute", F::CitStatute, opt(Ty::Rec(Rec::Statute))),
            ("article", F::CitArticle, opt(Ty::Str)),
            ("article_known", F::CitArticleKnown, Ty::Bool),
        ],
        Rec::Statute => vec![
            ("id", F::StatId, Ty::Str),
            ("title", F::StatTitle, Ty::Str),
            ("level", F::StatLevel, Ty::Enum(&STATUTE_LEVEL)),
            ("in_force", F::StatInForce, opt(Ty::Date)),
            ("repealed", F::StatRepealed, opt(Ty::Date)),
            ("jurisdiction", F::StatJurisdiction, Ty::Str),
            ("number", F::StatNumber, opt(Ty::Str)),
        ],
        Rec::Shared => vec![
            ("name", F::SharedName, Ty::Str),
            ("provider", F::SharedProvider, opt(Ty::Str)),
            ("channel", F::SharedChannel, Ty::Enum(&CHANNEL)),
        ],
        Rec::Certificate => vec![
            ("name", F::CertName, Ty::Str),
            ("issuer", F::CertIssuer, opt(Ty::Str)),
            ("items", F::CertItems, Ty::list(Ty::Str)),
        ],
        Rec::Cover => vec![
            ("kept", F::CoverKept, Ty::Str),
            ("replaces", F::CoverReplaces, Ty::list(Ty::Str)),
            ("obsolete", F::CoverObsolete, Ty::Bool),
            ("basis", F::CoverBasis, opt(Ty::Str)),
        ],
    }
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Exists,
    Empty,
    Count,
    Norm,
    CatchAll,
    Shared,
    Certificate,
    Covers,
    Citations,
    Waivers,
    SameCode,
    Preceding,
    Date,
    Used,
    InJurisdiction,
}

/// Name, function and a one-line signature for "did you mean" and the docs.
pub const BUILTINS: &[(&str, Builtin, &str)] = &[
    ("exists", Builtin::Exists, "exists(x) → bool: x is present"),
    ("empty", Builtin::Empty, "empty(x) → bool: x is absent, \"\" or []"),
    ("count", Builtin::Count, "count(list) → int"),
    ("norm", Builtin::Norm, "norm(text) → text: normalised as names are (SPEC §2.7)"),
    ("catch_all", Builtin::CatchAll, "catch_all(text?) → text?: the catch-all or vague phrase found"),
    ("shared", Builtin::Shared, "shared(name) → shared-entry?: the sharing-catalog entry"),
    ("certificate", Builtin::Certificate, "certificate(name) → certificate?: the retained-certificate entry"),
    ("covers", Builtin::Covers, "covers(name) → list of cover: entries whose `replaces` name it"),
    ("citations", Builtin::Citations, "citations(item) → list of citation: the item's and its materials' bases"),
    ("waivers", Builtin::Waivers, "waivers(item) → list of waiver: the item's and its materials' waivers"),
    ("same_code", Builtin::SameCode, "same_code(item) → list of item: other items with the same code"),
    (
        "preceding",
        Builtin::Preceding,
        "preceding(material | step) → list: the earlier materials of its item / steps of its chain",
    ),
    ("date", Builtin::Date, "date(\"YYYY-MM-DD\") → date"),
    ("used", Builtin::Used, "used(waiver) → bool: the waiver waived a finding (or its rule did not run)"),
    (
        "in_jurisdiction",
        Builtin::InJurisdiction,
        "in_jurisdiction(item, region) → bool: the item's region lies in the region",
    ),
];
