//! The item model: what a list file says, with a span for every value.

use std::fmt;
use std::sync::Arc;

use crate::source::{FileId, Span, Spanned};

/// A closed set of values for an enumerated field, with its canonical (Simplified) spellings.
#[derive(Debug, PartialEq, Eq)]
pub struct Domain {
    pub name: &'static str,
    pub values: &'static [&'static str],
}

impl Domain {
    /// The canonical value for a (normalised) spelling.
    #[must_use]
    pub fn find(&self, token: &str) -> Option<&'static str> {
        self.values.iter().copied().find(|v| *v == token)
    }
}

pub static ITEM_TYPE: Domain = Domain {
    name: "事项类型",
    values: &["行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "行政备案", "其他行政权力", "公共服务"],
};
pub static LEVEL: Domain = Domain { name: "层级", values: &["省级", "市级", "县级", "乡镇", "村社区"] };
pub static HANDLING: Domain = Domain { name: "办件类型", values: &["即办件", "承办件"] };
pub static PROMISE: Domain =
    Domain { name: "四办类别", values: &["即收即办", "当日办结", "限时办结", "代办服务"] };
pub static ONLINE: Domain = Domain { name: "网办深度", values: &["全程网办", "网上预审", "不可网办"] };
pub static COMPLEX: Domain =
    Domain { name: "复杂情形", values: &["现场勘查", "专家评审", "会议研究", "听证", "公示"] };
pub static MATERIAL_KIND: Domain = Domain {
    name: "材料类型",
    values: &["申请表", "证件", "证照", "证明", "合同协议", "报告", "图纸", "其他"],
};
pub static SOURCE: Domain =
    Domain { name: "材料来源", values: &["申请人", "本部门", "其他部门", "中介机构", "其他"] };
pub static ACQUISITION: Domain = Domain {
    name: "获取方式",
    values: &["申请人提交", "内部共享", "外部共享", "网络核验", "告知承诺", "免提交"],
};
pub static FORMAT: Domain = Domain { name: "形式", values: &["原件", "复印件", "电子件"] };
pub static STATUTE_LEVEL: Domain = Domain {
    name: "效力层级",
    values: &["法律", "行政法规", "地方性法规", "部门规章", "地方政府规章", "规范性文件", "国务院决定"],
};
pub static CHANNEL: Domain = Domain { name: "共享渠道", values: &["电子证照", "数据共享", "网络核验"] };
pub static VERIFICATION: Domain =
    Domain { name: "核验标记", values: &["VERIFIED", "VERIFIED-SECONDARY", "UNVERIFIED"] };
pub static SEVERITY: Domain = Domain { name: "严重程度", values: &["error", "warning", "info"] };

/// A calendar date (no time zone: list dates are civil dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` (also `YYYY/MM/DD` and `YYYY年M月D日`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let parts: Vec<&str> = s.split(['-', '/', '年', '月', '日', '.']).filter(|p| !p.is_empty()).collect();
        let [y, m, d] = parts.as_slice() else { return None };
        let year: i32 = y.parse().ok()?;
        let month: u8 = m.parse().ok()?;
        let day: u8 = d.parse().ok()?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if !(1..=days).contains(&day) || !(1..=9999).contains(&year) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Today's civil date in UTC+8 (China Standard Time).
    #[must_use]
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "calendar arithmetic on the system clock, not on input: every value is small and non-negative"
    )]
    pub fn today() -> Date {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 8 * 3600;
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        // Civil-from-days (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(1970),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The optional `list:` header of a file: defaults for its items.
#[derive(Debug, Clone, Default)]
pub struct ListHeader {
    pub title: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub level: Option<Spanned<&'static str>>,
    pub department: Option<Spanned<String>>,
    pub version: Option<Spanned<String>>,
}

/// One list file.
#[derive(Debug, Clone)]
pub struct ListFile {
    pub file: FileId,
    pub header: Arc<ListHeader>,
    /// The region the file's items are checked for: the header's `region`, else the corpus
    /// configuration's `jurisdiction`.
    pub region: Option<Arc<str>>,
    /// The item-code pattern for QD303 (from the nearest `qingdan.yaml`, else the default).
    pub code_pattern: Arc<regex::Regex>,
}

/// A legal basis as written, resolved against the statute registry.
#[derive(Debug, Clone)]
pub struct Citation {
    pub text: Spanned<String>,
    /// Index into the registry's statutes, when the statute is known.
    pub statute: Option<u32>,
    /// The article, canonical (第二十二条), when one is given.
    pub article: Option<String>,
    /// False when the statute's registry entry is complete and lacks the article.
    pub article_known: bool,
}

#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: Spanned<String>,
    pub reason: Option<Spanned<String>>,
    pub approved_by: Option<Spanned<String>>,
    pub expires: Option<Spanned<Date>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Material {
    pub name: Spanned<Arc<str>>,
    /// `name` normalised (SPEC §2.7), computed once.
    pub norm_name: Arc<str>,
    pub kind: Option<Spanned<&'static str>>,
    pub source: Option<Spanned<&'static str>>,
    pub acquisition: Option<Spanned<&'static str>>,
    pub provider: Option<Spanned<String>>,
    pub basis: Vec<Citation>,
    pub copies: Option<Spanned<i64>>,
    pub format: Option<Spanned<&'static str>>,
    pub note: Option<Spanned<Arc<str>>>,
    pub waivers: Vec<Waiver>,
    pub span: Span,
}

/// `Default` is an empty item: what the streaming check leaves in place of an item it moves out
/// of a corpus it is about to free.
#[derive(Debug, Clone, Default)]
pub struct Item {
    /// Index of the list file in [`Corpus::files`](super::Corpus).
    pub list: u32,
    pub span: Span,
    pub code: Spanned<String>,
    pub name: Spanned<String>,
    pub item_type: Option<Spanned<&'static str>>,
    pub department: Option<Spanned<String>>,
    pub basis: Vec<Citation>,
    pub handling: Option<Spanned<&'static str>>,
    pub promise: Option<Spanned<&'static str>>,
    pub legal_days: Option<Spanned<i64>>,
    pub promised_days: Option<Spanned<i64>>,
    pub visits: Option<Spanned<i64>>,
    pub online: Option<Spanned<&'static str>>,
    pub departments: Vec<Spanned<String>>,
    pub steps: Option<Spanned<i64>>,
    pub in_hall: Option<Spanned<bool>>,
    pub extendable: Option<Spanned<bool>>,
    pub citywide: Option<Spanned<bool>>,
    pub complex: Vec<Spanned<&'static str>>,
    pub superior: Option<Spanned<String>>,
    pub fee: Option<Spanned<String>>,
    pub waivers: Vec<Waiver>,
    pub materials: Vec<Material>,
}

/// A "一件事" chain: an ordered list of item codes.
#[derive(Debug, Clone)]
pub struct Chain {
    pub list: u32,
    pub name: Spanned<String>,
    pub steps: Vec<Spanned<String>>,
    pub span: Span,
}

/// Calls `f` on every span of a value, to move it to another file.
fn spans<T>(s: &mut Spanned<T>, f: &mut dyn FnMut(&mut Span)) {
    f(&mut s.span);
}

fn opt_spans<T>(s: &mut Option<Spanned<T>>, f: &mut dyn FnMut(&mut Span)) {
    if let Some(s) = s {
        f(&mut s.span);
    }
}

fn citation_spans(cs: &mut [Citation], f: &mut dyn FnMut(&mut Span)) {
    for c in cs {
        spans(&mut c.text, f);
    }
}

fn waiver_spans(ws: &mut [Waiver], f: &mut dyn FnMut(&mut Span)) {
    for w in ws {
        spans(&mut w.rule, f);
        opt_spans(&mut w.reason, f);
        opt_spans(&mut w.approved_by, f);
        opt_spans(&mut w.expires, f);
        f(&mut w.span);
    }
}

impl Item {
    /// Moves every span of the item to file `file` (the streaming check checks items cut out of
    /// their files as files of their own).
    pub fn relocate(&mut self, file: FileId) {
        self.for_each_span(&mut |s: &mut Span| s.file = file);
    }

    /// Calls `f` on every span of the item.
    pub fn for_each_span(&mut self, f: &mut dyn FnMut(&mut Span)) {
        f(&mut self.span);
        spans(&mut self.code, f);
        spans(&mut self.name, f);
        opt_spans(&mut self.item_type, f);
        opt_spans(&mut self.department, f);
        citation_spans(&mut self.basis, f);
        opt_spans(&mut self.handling, f);
        opt_spans(&mut self.promise, f);
        opt_spans(&mut self.legal_days, f);
        opt_spans(&mut self.promised_days, f);
        opt_spans(&mut self.visits, f);
        opt_spans(&mut self.online, f);
        self.departments.iter_mut().for_each(|d| spans(d, f));
        opt_spans(&mut self.steps, f);
        opt_spans(&mut self.in_hall, f);
        opt_spans(&mut self.extendable, f);
        opt_spans(&mut self.citywide, f);
        self.complex.iter_mut().for_each(|c| spans(c, f));
        opt_spans(&mut self.superior, f);
        opt_spans(&mut self.fee, f);
        waiver_spans(&mut self.waivers, f);
        for m in &mut self.materials {
            f(&mut m.span);
            spans(&mut m.name, f);
            opt_spans(&mut m.kind, f);
            opt_spans(&mut m.source, f);
            opt_spans(&mut m.acquisition, f);
            opt_spans(&mut m.provider, f);
            citation_spans(&mut m.basis, f);
            opt_spans(&mut m.copies, f);
            opt_spans(&mut m.format, f);
            opt_spans(&mut m.note, f);
            waiver_spans(&mut m.waivers, f);
        }
    }
}

impl Chain {
    /// Moves every span of the chain to file `file` (see [`Item::relocate`]).
    pub fn relocate(&mut self, file: FileId) {
        self.for_each_span(&mut |s: &mut Span| s.file = file);
    }

    /// Calls `f` on every span of the chain.
    pub fn for_each_span(&mut self, f: &mut dyn FnMut(&mut Span)) {
        f(&mut self.span);
        spans(&mut self.name, f);
        self.steps.iter_mut().for_each(|s| spans(s, f));
    }
}
