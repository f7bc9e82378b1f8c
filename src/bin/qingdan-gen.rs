//! `qingdan-gen` — writes a realistic corpus of government service item lists (政务服务事项清单) of
//! any size, for benchmarks (SPEC §10).
//!
//! ```text
//! qingdan-gen --items 20000 --files 100 --seed 1 --out target/bench-corpora/20k [--flaw-rate 0.25]
//! ```
//!
//! It writes `--files` list files (one department of one region each, under `<region code>/`), one
//! `chains.yaml` with the 一件事 chains formed from their items (left out when no region holds all
//! the steps of a chain), a `qingdan.yaml` with the jurisdiction, and `qingdan-gen.json`: the
//! sizes and the number of findings of each rule that the planted flaws should give. Items follow the departments, item types, names, materials and
//! citations of `corpus/` and of real 办事指南; every citation names a statute of the built-in
//! registry. About `--flaw-rate` of the items carry one to three planted flaws, spread over every
//! rule of SPEC §3; the other items are clean, so `--flaw-rate 0` gives a corpus with no finding.
//!
//! The output is deterministic from the arguments (a splitmix64 generator, no hash-order
//! dependence) and streamed: each file is written as it is generated, and only a bounded state
//! per region (code counters, chain candidates) and a small ring of recent item codes (for
//! duplicate codes) are kept, so the 5,000,000-item country corpus takes a few megabytes.
//!
//! **Architecture Invariant:** this binary does not use the qingdan library. It only writes text,
//! so it can never agree with the checker by sharing its bugs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Writes a realistic corpus of government service item lists, deterministic from the seed.
#[derive(Debug, Parser)]
#[command(name = "qingdan-gen", version)]
struct Args {
    /// Total number of items.
    #[arg(long)]
    items: u64,
    /// Number of list files (each one department of one region).
    #[arg(long, default_value_t = 1)]
    files: u64,
    /// Seed of the pseudo-random generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (created; a directory written earlier by qingdan-gen is replaced).
    #[arg(long)]
    out: PathBuf,
    /// Share of items that carry at least one planted flaw (0 gives a clean corpus).
    #[arg(long, default_value_t = 0.25)]
    flaw_rate: f64,
    /// Print nothing on success.
    #[arg(long, short)]
    quiet: bool,
}

/// The file that marks a directory as written by qingdan-gen (and holds the expected counts).
const MARKER: &str = "qingdan-gen.json";

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(summary) => {
            if !args.quiet {
                eprintln!("{summary}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("qingdan-gen: {e}");
            ExitCode::from(2)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pseudo-random numbers

/// splitmix64 (Steele, Lea, Flood 2014): small, fast, and good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_F42D_4C95_7F2D)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, s: &'a [T]) -> Option<&'a T> {
        let i = self.index(s.len());
        s.get(i)
    }

    fn pick_str(&mut self, s: &[&'static str]) -> &'static str {
        self.pick(s).copied().unwrap_or("")
    }
}

// ---------------------------------------------------------------------------------------------
// Templates

#[derive(Debug)]
struct MatT {
    name: &'static str,
    kind: &'static str,
    source: &'static str,
    acq: &'static str,
    basis: Vec<&'static str>,
    provider: &'static str,
    note: &'static str,
}

#[derive(Debug)]
struct ItemT {
    name: &'static str,
    ty: &'static str,
    basis: Vec<&'static str>,
    legal: u32,
    mode: &'static str,
    online: &'static str,
    unit: &'static str,
    chain: &'static str,
    own: &'static str,
    complex: &'static str,
    fee: &'static str,
    stale: &'static str,
    variants: Vec<&'static str>,
    mats: Vec<MatT>,
}

#[derive(Debug)]
struct Dept {
    key: &'static str,
    city: &'static str,
    prov: &'static str,
    ministry: &'static str,
    weight: u32,
    lowcert: Option<(&'static str, &'static str)>,
    covered: Vec<&'static str>,
    unknown: Vec<&'static str>,
    items: Vec<ItemT>,
}

fn list(s: &'static str, sep: char) -> Vec<&'static str> {
    s.split(sep).map(str::trim).filter(|x| !x.is_empty()).collect()
}

fn parse_templates() -> Result<Vec<Dept>, String> {
    let mut depts: Vec<Dept> = Vec::new();
    for (n, line) in TEMPLATES.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        let f: Vec<&'static str> = rest.split('|').map(str::trim).collect();
        let g = |i: usize| f.get(i).copied().unwrap_or("");
        let bad = || format!("template line {}: `{line}`", n + 1);
        match tag {
            "D" => depts.push(Dept {
                key: g(0),
                city: g(1),
                prov: g(2),
                ministry: g(3),
                weight: g(4).parse().map_err(|_| bad())?,
                lowcert: g(5).split_once('@'),
                covered: list(g(6), ';'),
                unknown: list(g(7), ';'),
                items: Vec::new(),
            }),
            "I" => {
                let dept = depts.last_mut().ok_or_else(bad)?;
                dept.items.push(ItemT {
                    name: g(0),
                    ty: g(1),
                    basis: list(g(2), ';'),
                    legal: g(3).parse().map_err(|_| bad())?,
                    mode: g(4),
                    online: g(5),
                    unit: g(6),
                    chain: g(7),
                    own: g(8),
                    complex: g(9),
                    fee: g(10),
                    stale: g(11),
                    variants: Vec::new(),
                    mats: Vec::new(),
                });
            }
            "V" | "M" => {
                let item = depts.last_mut().and_then(|d| d.items.last_mut()).ok_or_else(bad)?;
                if tag == "V" {
                    item.variants = list(rest, '/');
                } else {
                    let form = g(1) == "申请表";
                    item.mats.push(MatT {
                        name: g(0),
                        kind: g(1),
                        source: if form && g(2).is_empty() { "申请人" } else { g(2) },
                        acq: if form && g(3).is_empty() { "申请人提交" } else { g(3) },
                        basis: list(g(4), ';'),
                        provider: g(5),
                        note: g(6),
                    });
                }
            }
            _ => return Err(bad()),
        }
    }
    if depts.is_empty() || depts.iter().any(|d| d.items.is_empty()) {
        return Err("templates: every department needs items".into());
    }
    Ok(depts)
}

/// Statutes of the registry below 法律 / 行政法规 / 地方性法规 (QD403).
const LOW_LEVEL: &[&str] = &[
    "机动车驾驶证申领和使用规定",
    "养老机构管理办法",
    "养老机构设立许可办法",
    "巡游出租汽车经营服务管理规定",
    "食品经营许可和备案管理办法",
    "食品经营许可管理办法",
];

fn statute_of(citation: &str) -> &str {
    citation.split(' ').next().unwrap_or(citation)
}

fn only_low_level(basis: &[String]) -> bool {
    !basis.is_empty() && basis.iter().all(|c| LOW_LEVEL.contains(&statute_of(c)))
}

/// Names (after normalisation) that are in the built-in sharing catalog (policies/shared.yaml).
const CATALOG: &[&str] = &[
    "居民户口簿",
    "户口簿",
    "营业执照",
    "不动产权证书",
    "结婚证",
    "机动车驾驶证",
    "机动车行驶证",
    "道路运输证",
    "食品经营许可证",
    "社会保障卡",
    "卫生许可证",
    "建设工程规划许可证",
    "建设用地规划许可证",
    "道路运输从业人员从业资格证",
    "完税证明",
    "道路运输经营许可证",
    "烟草专卖零售许可证",
    "取水许可证",
    "排污许可证",
];

/// Catalog materials an applicant is wrongly asked for (QD103): name, kind.
const SHAREABLE: &[(&str, &str)] = &[
    ("居民户口簿", "证件"),
    ("户口簿", "证件"),
    ("营业执照复印件", "证照"),
    ("营业执照副本", "证照"),
    ("机动车驾驶证复印件", "证照"),
    ("机动车行驶证", "证照"),
    ("结婚证", "证照"),
    ("社会保障卡", "证件"),
    ("不动产权证书", "证照"),
];

/// Certificates that are not on the retained list (QD104).
const VOID_CERTIFICATES: &[&str] = &[
    "亲属关系证明",
    "无房证明",
    "收入证明",
    "在职证明",
    "经营场所无纠纷证明",
    "家庭经济困难证明",
    "未再婚证明",
    "无欠费证明",
    "房屋安全证明",
    "邻里无异议证明",
    "无违法经营记录证明",
    "车辆无事故证明",
];

/// Catch-all and vague material names (QD102).
const CATCH_ALL: &[&str] = &[
    "其他相关材料",
    "申请事由的相关材料",
    "使用土地的有关证明文件",
    "其他需要提供的材料",
    "有关部门出具的证明",
    "审批机关要求的其他材料",
    "法律法规规定的其他材料",
    "其他能够证明申请人符合条件的材料",
    "身份证、户口簿等材料",
    "相关证明文件",
    "补充材料",
];

/// Vague notes (QD102 in the note).
const VAGUE_NOTES: &[&str] = &["必要时提供公证文书", "视情况提供补充说明", "根据需要提交书面说明", "如有需要另行补交"];

/// Notes that are not vague.
const CLEAN_NOTES: &[&str] = &[
    "原件核验后退回，复印件由申请人签字确认",
    "须由法定代表人签字并加盖单位公章",
    "通过政务服务平台提交电子件的，无需再提交纸质件",
    "纸质材料一式两份，使用A4纸打印",
    "外文文书须附具有资质的翻译机构出具的中文译本",
    "可通过全国一体化政务服务平台在线核验，核验通过的免于提交",
    "委托代理人办理的，提交授权委托书和代理人身份证件",
    "须在有效期内，过期的不予受理",
    "按照办事指南所附示范文本填写",
    "申请人为自然人的由本人签字，为法人的加盖公章",
];

/// Materials without basis that a legacy list asks for (QD101).
const NO_BASIS: &[&str] = &["近期一寸免冠彩色照片", "经营场所照片", "申请人个人简历", "企业情况介绍", "办公场所照片"];

/// Materials that an earlier step of a 一件事 chain already collects; a later step that is not
/// flawed obtains them itself.
const CHAIN_SHARED: &[(&str, &str)] =
    &[("法定代表人身份证", "网络核验"), ("经营场所租赁合同", "内部共享"), ("从业人员健康证明", "外部共享")];

/// 一件事 themes: name and the chain tags of their steps (the first is the company).
const THEMES: &[(&str, &[&str])] = &[
    ("我要开饭店", &["company", "food", "tobacco"]),
    ("我要开宾馆", &["company", "hotel_health", "hotel", "food"]),
    ("我要开便利店", &["company", "prepack", "tobacco"]),
    ("我要开货运公司", &["company", "freight", "freight2"]),
    ("我要开出租汽车公司", &["company", "taxi", "taxi2"]),
];

/// Chain candidates kept per region and tag, and chains formed per region and theme.
const MAX_CANDIDATES: usize = 40;
const MAX_CHAINS_PER_THEME: usize = 30;

// ---------------------------------------------------------------------------------------------
// Regions

#[derive(Debug, Clone)]
struct Region {
    code: u32,
    name: String,
    /// The name without its 市/省 ending, for document numbers.
    short: String,
    level: &'static str,
    /// Prefix of department names: 省, 市, 区 or 县.
    prefix: &'static str,
    province: &'static str,
}

type Cities = &'static [(u32, &'static str)];

/// Provinces and their prefecture-level cities, with their 行政区划代码. 黑龙江 comes first and
/// 大庆 first in it, so a city corpus is 大庆's and a province corpus 黑龙江's.
const PROVINCES: &[(&str, u32, Cities)] = &[
    (
        "黑龙江省",
        230000,
        &[
            (230600, "大庆市"),
            (230100, "哈尔滨市"),
            (230200, "齐齐哈尔市"),
            (230300, "鸡西市"),
            (230400, "鹤岗市"),
            (230500, "双鸭山市"),
            (230700, "伊春市"),
            (230800, "佳木斯市"),
            (230900, "七台河市"),
            (231000, "牡丹江市"),
            (231100, "黑河市"),
            (231200, "绥化市"),
        ],
    ),
    (
        "河南省",
        410000,
        &[
            (410100, "郑州市"),
            (410200, "开封市"),
            (410300, "洛阳市"),
            (410400, "平顶山市"),
            (410500, "安阳市"),
            (410600, "鹤壁市"),
            (410700, "新乡市"),
            (410800, "焦作市"),
            (410900, "濮阳市"),
            (411000, "许昌市"),
            (411100, "漯河市"),
            (411200, "三门峡市"),
            (411300, "南阳市"),
            (411400, "商丘市"),
            (411500, "信阳市"),
            (411600, "周口市"),
            (411700, "驻马店市"),
        ],
    ),
    (
        "广东省",
        440000,
        &[
            (440100, "广州市"),
            (440200, "韶关市"),
            (440300, "深圳市"),
            (440400, "珠海市"),
            (440500, "汕头市"),
            (440600, "佛山市"),
            (440700, "江门市"),
            (440800, "湛江市"),
            (440900, "茂名市"),
            (441200, "肇庆市"),
            (441300, "惠州市"),
            (441400, "梅州市"),
            (441500, "汕尾市"),
            (441600, "河源市"),
            (441700, "阳江市"),
            (441800, "清远市"),
            (441900, "东莞市"),
            (442000, "中山市"),
            (445100, "潮州市"),
            (445200, "揭阳市"),
            (445300, "云浮市"),
        ],
    ),
    (
        "浙江省",
        330000,
        &[
            (330100, "杭州市"),
            (330200, "宁波市"),
            (330300, "温州市"),
            (330400, "嘉兴市"),
            (330500, "湖州市"),
            (330600, "绍兴市"),
            (330700, "金华市"),
            (330800, "衢州市"),
            (330900, "舟山市"),
            (331000, "台州市"),
            (331100, "丽水市"),
        ],
    ),
    (
        "山东省",
        370000,
        &[
            (370100, "济南市"),
            (370200, "青岛市"),
            (370300, "淄博市"),
            (370400, "枣庄市"),
            (370500, "东营市"),
            (370600, "烟台市"),
            (370700, "潍坊市"),
            (370800, "济宁市"),
            (370900, "泰安市"),
            (371000, "威海市"),
            (371100, "日照市"),
            (371300, "临沂市"),
            (371400, "德州市"),
            (371500, "聊城市"),
            (371600, "滨州市"),
            (371700, "菏泽市"),
        ],
    ),
    (
        "甘肃省",
        620000,
        &[
            (620100, "兰州市"),
            (620200, "嘉峪关市"),
            (620300, "金昌市"),
            (620400, "白银市"),
            (620500, "天水市"),
            (620600, "武威市"),
            (620700, "张掖市"),
            (620800, "平凉市"),
            (620900, "酒泉市"),
            (621000, "庆阳市"),
            (621100, "定西市"),
            (621200, "陇南市"),
        ],
    ),
    ("河北省", 130000, &[(130100, "石家庄市")]),
    ("山西省", 140000, &[(140100, "太原市")]),
    ("内蒙古自治区", 150000, &[(150100, "呼和浩特市")]),
    ("辽宁省", 210000, &[(210100, "沈阳市")]),
    ("吉林省", 220000, &[(220100, "长春市")]),
    ("江苏省", 320000, &[(320100, "南京市")]),
    ("安徽省", 340000, &[(340100, "合肥市")]),
    ("福建省", 350000, &[(350100, "福州市")]),
    ("江西省", 360000, &[(360100, "南昌市")]),
    ("湖北省", 420000, &[(420100, "武汉市")]),
    ("湖南省", 430000, &[(430100, "长沙市")]),
    ("广西壮族自治区", 450000, &[(450100, "南宁市")]),
    ("海南省", 460000, &[(460100, "海口市")]),
    ("四川省", 510000, &[(510100, "成都市")]),
    ("贵州省", 520000, &[(520100, "贵阳市")]),
    ("云南省", 530000, &[(530100, "昆明市")]),
    ("西藏自治区", 540000, &[(540100, "拉萨市")]),
    ("陕西省", 610000, &[(610100, "西安市")]),
    ("青海省", 630000, &[(630100, "西宁市")]),
    ("宁夏回族自治区", 640000, &[(640100, "银川市")]),
    ("新疆维吾尔自治区", 650000, &[(650100, "乌鲁木齐市")]),
    ("北京市", 110000, &[]),
    ("天津市", 120000, &[]),
    ("上海市", 310000, &[]),
    ("重庆市", 500000, &[]),
];

const DAQING_COUNTIES: &[(u32, &str)] = &[
    (230602, "萨尔图区"),
    (230603, "龙凤区"),
    (230604, "让胡路区"),
    (230605, "红岗区"),
    (230606, "大同区"),
    (230621, "肇州县"),
    (230622, "肇源县"),
    (230623, "林甸县"),
    (230624, "杜尔伯特蒙古族自治县"),
];

/// District names for the cities whose real districts this generator does not know.
const DISTRICTS: &[&str] = &[
    "东城区",
    "西城区",
    "南城区",
    "北城区",
    "新城区",
    "城关区",
    "河东区",
    "河西区",
    "新华区",
    "和平区",
    "长安区",
    "滨湖区",
    "高新区",
    "经开区",
    "江北区",
    "江南区",
];

fn short_name(name: &str) -> String {
    for end in ["维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"] {
        if let Some(s) = name.strip_suffix(end)
            && !s.is_empty()
        {
            return s.to_string();
        }
    }
    name.to_string()
}

/// The first `n` regions: for each province its cities, the province itself, then the districts
/// and counties of its cities.
fn regions(n: usize) -> Result<Vec<Region>, String> {
    let mut out = Vec::new();
    let region = |code, name: &str, level, prefix, province| Region {
        code,
        name: name.to_string(),
        short: short_name(name),
        level,
        prefix,
        province,
    };
    for &(province, pcode, cities) in PROVINCES {
        if cities.is_empty() {
            // A municipality: its lists are 市级, its districts come next.
            out.push(region(pcode, province, "市级", "市", province));
        }
        for &(code, city) in cities {
            out.push(region(code, city, "市级", "市", province));
        }
        if !cities.is_empty() {
            out.push(region(pcode, province, "省级", "省", province));
        }
        let parents: Vec<(u32, &str)> = if cities.is_empty() { vec![(pcode, province)] } else { cities.to_vec() };
        for (code, city) in parents {
            if code == 230600 {
                for &(c, county) in DAQING_COUNTIES {
                    let prefix = if county.ends_with('县') { "县" } else { "区" };
                    out.push(region(c, &format!("{city}{county}"), "县级", prefix, province));
                }
            } else {
                for (k, d) in DISTRICTS.iter().enumerate() {
                    out.push(region(code + 2 + k as u32, &format!("{city}{d}"), "县级", "区", province));
                }
            }
        }
        if out.len() >= n {
            break;
        }
    }
    if out.len() < n {
        return Err(format!(
            "the corpus needs {n} regions but the generator knows {}: use fewer files or more items per file",
            out.len()
        ));
    }
    out.truncate(n);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Item model (what one generated item holds before it is written)

#[derive(Debug, Clone)]
struct Waiver {
    rule: &'static str,
    reason: Option<String>,
    approved_by: String,
    expires: Option<&'static str>,
}

#[derive(Debug, Clone, Default)]
struct Mat {
    name: String,
    kind: Option<&'static str>,
    source: Option<&'static str>,
    acq: Option<&'static str>,
    provider: Option<String>,
    basis: Vec<String>,
    copies: Option<u32>,
    format: Option<&'static str>,
    note: Option<String>,
    touched: bool,
}

impl Mat {
    fn submitted(&self) -> bool {
        self.acq.is_none_or(|a| a == "申请人提交")
    }

    fn is_form(&self) -> bool {
        self.kind == Some("申请表")
    }
}

#[derive(Debug, Clone, Default)]
struct Item {
    code: String,
    name: String,
    ty: Option<&'static str>,
    department: Option<String>,
    basis: Vec<String>,
    handling: Option<&'static str>,
    promise: Option<&'static str>,
    legal: Option<u32>,
    promised: Option<u32>,
    visits: Option<u32>,
    online: Option<&'static str>,
    departments: Vec<String>,
    steps: u32,
    in_hall: bool,
    extendable: bool,
    citywide: bool,
    complex: Vec<&'static str>,
    superior: Option<String>,
    fee: String,
    waivers: Vec<Waiver>,
    materials: Vec<Mat>,
}

/// The comparison form of a material name, as far as generated names need it (SPEC §2.7).
fn norm(name: &str) -> &str {
    let mut s = name;
    loop {
        let before = s.len();
        for suffix in ["复印件", "原件", "扫描件", "电子件"] {
            if let Some(t) = s.strip_suffix(suffix)
                && !t.is_empty()
            {
                s = t;
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

fn has_material(item: &Item, name: &str) -> bool {
    let n = norm(name);
    item.materials.iter().any(|m| norm(&m.name) == n)
}

fn type_code(ty: &str) -> &'static str {
    match ty {
        "行政许可" => "XK",
        "行政确认" => "QR",
        "行政给付" => "GF",
        "行政裁决" => "CJ",
        "行政奖励" => "JL",
        "行政备案" => "BA",
        "公共服务" => "GG",
        _ => "QT",
    }
}

const TYPE_CODES: &[&str] = &["XK", "QR", "GF", "CJ", "JL", "BA", "GG", "QT"];

// ---------------------------------------------------------------------------------------------
// Rules and the expected findings

const RULES: &[&str] = &[
    "QD101", "QD102", "QD103", "QD104", "QD105", "QD106", "QD107", "QD108", "QD201", "QD202", "QD203", "QD204",
    "QD301", "QD302", "QD303", "QD401", "QD402", "QD403", "QD901", "QD902", "QD903",
];

/// Relative frequency of each planted flaw, after what reform offices report finding most.
const WEIGHTS: &[(&str, u32)] = &[
    ("QD101", 14),
    ("QD102", 12),
    ("QD103", 14),
    ("QD104", 8),
    ("QD105", 5),
    ("QD106", 5),
    ("QD107", 5),
    ("QD108", 10),
    ("QD201", 6),
    ("QD202", 6),
    ("QD203", 7),
    ("QD204", 5),
    ("QD301", 5),
    ("QD302", 2),
    ("QD303", 3),
    ("QD401", 5),
    ("QD402", 12),
    ("QD403", 4),
    ("QD901", 2),
    ("QD902", 2),
    ("QD903", 2),
];

/// Planted flaws that cannot share an item: the same field group, or a whole-item flaw.
fn group(rule: &str) -> &'static str {
    match rule {
        "QD201" | "QD202" => "time",
        "QD203" | "QD204" | "QD901" | "QD903" => "visits",
        "QD301" | "QD302" => "alone",
        "QD303" => "code",
        _ => "",
    }
}

#[derive(Debug, Default)]
struct Expected {
    findings: BTreeMap<&'static str, u64>,
    waived: BTreeMap<&'static str, u64>,
}

impl Expected {
    fn add(&mut self, rule: &'static str, n: u64) {
        *self.findings.entry(rule).or_default() += n;
    }
}

// ---------------------------------------------------------------------------------------------
// The plan: which region and department each file is, and how many items it holds

#[derive(Debug)]
struct FilePlan {
    region: usize,
    dept: usize,
    batch: u64,
    items: u64,
}

fn plan(args: &Args, depts: &[Dept], rng: &mut Rng) -> Result<(Vec<Region>, Vec<FilePlan>), String> {
    let files = args.files;
    let avg = args.items / files;
    // A region holds up to about 12,000 items (so that 4-digit codes per type suffice) and up to
    // two batches of each department's list.
    let max_per_region = (2 * depts.len()) as u64;
    let per_region = (12_000 / avg.max(1)).clamp(1, max_per_region);
    let n_regions = files.div_ceil(per_region);
    let regions = regions(usize::try_from(n_regions).map_err(|e| e.to_string())?)?;
    let mut plans = Vec::new();
    let mut weights = Vec::new();
    for r in 0..n_regions {
        let n = (files - r * per_region).min(per_region);
        // Departments in a random order biased to the heavy ones.
        let mut order: Vec<(f64, usize)> =
            depts.iter().enumerate().map(|(i, d)| (rng.unit() * f64::from(d.weight), i)).collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0));
        for j in 0..n {
            let len = order.len() as u64;
            let dept = order.get((j % len) as usize).map_or(0, |o| o.1);
            let w = f64::from(depts.get(dept).map_or(1, |d| d.weight)) * (0.6 + 0.8 * rng.unit());
            weights.push(w);
            plans.push(FilePlan { region: r as usize, dept, batch: j / len + 1, items: 1 });
        }
    }
    // Sizes proportional to the weights, at least one item each, summing to --items.
    let total: f64 = weights.iter().sum();
    let spare = args.items - files;
    let mut given = 0;
    for (p, w) in plans.iter_mut().zip(&weights) {
        let extra = (spare as f64 * w / total).floor() as u64;
        p.items += extra;
        given += extra;
    }
    let mut left = spare - given.min(spare);
    let mut i = 0usize;
    let n_plans = plans.len();
    while left > 0 {
        if let Some(p) = plans.get_mut(i % n_plans) {
            p.items += 1;
        }
        left -= 1;
        i += 1;
    }
    Ok((regions, plans))
}

// ---------------------------------------------------------------------------------------------
// Generation state

#[derive(Debug)]
struct Candidate {
    code: String,
    /// Normalised names of the non-form materials the applicant submits, in order.
    submitted: Vec<String>,
}

#[derive(Debug, Default)]
struct RegionState {
    counters: [u32; 8],
    blocks: [u32; 8],
    candidates: BTreeMap<&'static str, Vec<Candidate>>,
}

/// A code that a later item may duplicate (QD302).
#[derive(Debug)]
struct Recent {
    file: u64,
    code: String,
}

const RECENT: usize = 64;

struct Gen<'a> {
    args: &'a Args,
    depts: &'a [Dept],
    rng: Rng,
    expected: Expected,
    recent: Vec<Recent>,
    region_state: RegionState,
    items: u64,
    materials: u64,
    bytes: u64,
    chains: u64,
    chain_out: BufWriter<File>,
    chain_started: bool,
}

/// Everything the item generator needs to know about the file it writes.
struct FileCtx<'a> {
    index: u64,
    region: &'a Region,
    dept: &'a Dept,
    header_department: bool,
}

fn dept_name(region: &Region, dept: &Dept) -> String {
    if region.level == "省级" { format!("省{}", dept.prov) } else { format!("{}{}", region.prefix, dept.city) }
}

fn provider_name(region: &Region, depts: &[Dept], key: &str) -> String {
    if let Some(d) = depts.iter().find(|d| d.key == key) {
        return dept_name(region, d);
    }
    match key {
        "tax" => format!("国家税务总局{}税务局", region.name),
        "" => String::new(),
        other => other.to_string(),
    }
}

fn superior_name(region: &Region, dept: &Dept) -> String {
    match region.level {
        "省级" => dept.ministry.to_string(),
        "县级" => format!("市{}", dept.city),
        _ => format!("省{}", dept.prov),
    }
}

fn approval(rng: &mut Rng, region: &Region) -> String {
    let year = 2019 + rng.below(6);
    let n = 1 + rng.below(60);
    let kind = rng.pick_str(&["政办函", "政办发", "审改办发", "政务办函"]);
    format!("{}{kind}〔{year}〕{n}号", region.short)
}

impl Gen<'_> {
    /// A fresh, well-formed code for an item of this type in this region.
    fn next_code(&mut self, region: &Region, ty: &str) -> String {
        let tc = type_code(ty);
        let t = TYPE_CODES.iter().position(|c| *c == tc).unwrap_or(0);
        let (mut seq, mut block) = (0, 0);
        if let (Some(c), Some(b)) = (self.region_state.counters.get_mut(t), self.region_state.blocks.get_mut(t)) {
            if *c >= 9999 {
                // More than 9,999 items of one type in one region: continue in another code block.
                *c = 0;
                *b += 1;
            }
            *c += 1;
            seq = *c;
            block = *b;
        }
        let prefix = if block == 0 { region.code } else { region.code + 40 + block };
        format!("{prefix:06}-{tc}-{seq:04}")
    }

    fn gen_item(&mut self, ctx: &FileCtx<'_>) -> (Item, Option<&'static str>, bool) {
        let dept = ctx.dept;
        let region = ctx.region;
        let t_index = self.rng.index(dept.items.len());
        let Some(t) = dept.items.get(t_index) else { return (Item::default(), None, false) };
        let rng = &mut self.rng;
        let mut item = Item {
            name: match rng.pick(&t.variants) {
                Some(v) => format!("{}（{v}）", t.name),
                None => t.name.to_string(),
            },
            ty: Some(t.ty),
            basis: t.basis.iter().map(ToString::to_string).collect(),
            legal: Some(t.legal),
            fee: if t.fee.is_empty() { "不收费".into() } else { t.fee.to_string() },
            in_hall: rng.chance(0.9),
            extendable: rng.chance(0.4),
            citywide: rng.chance(0.5),
            ..Item::default()
        };
        let own_department = dept_name(region, dept);
        let department = if t.unit.is_empty() { own_department.clone() } else { format!("{own_department}{}", t.unit) };
        if !ctx.header_department || !t.unit.is_empty() || rng.chance(0.15) {
            item.department = Some(department.clone());
        }
        item.departments = vec![department];
        if rng.chance(0.12) {
            let other = rng.pick(self.depts).map(|d| dept_name(region, d)).unwrap_or_default();
            if !other.is_empty() && !item.departments.contains(&other) {
                item.departments.push(other);
            }
        }
        // Time limits and the 四办 category, consistent with each other.
        let legal = t.legal;
        let promised = match t.mode {
            "即办" => 0,
            "当日" => 1,
            _ => {
                let options = [legal, legal * 3 / 4, legal / 2, legal / 3, legal / 4, 5, 3, 2];
                rng.pick(&options).copied().unwrap_or(1).clamp(1, legal.max(1))
            }
        };
        item.promised = Some(promised);
        let (promise, handling) = match t.mode {
            "即办" => ("即收即办", "即办件"),
            "当日" => ("当日办结", if rng.chance(0.3) { "即办件" } else { "承办件" }),
            "代办" => ("代办服务", "承办件"),
            _ => ("限时办结", "承办件"),
        };
        item.promise = Some(promise);
        item.handling = Some(handling);
        if promise == "代办服务" {
            item.superior = Some(superior_name(region, dept));
        }
        let (online, visits) = match t.online {
            "全程" => ("全程网办", 0),
            "预审" => ("网上预审", u32::from(rng.chance(0.7))),
            _ => ("不可网办", 1),
        };
        item.online = Some(online);
        item.visits = Some(visits);
        if !t.complex.is_empty() && rng.chance(0.6) {
            item.complex.push(t.complex);
        }
        item.steps = match t.mode {
            "即办" => 1,
            "当日" => 2,
            _ => 2 + rng.below(3) as u32,
        } + item.complex.len() as u32;
        // Materials: the template's, sometimes with the usual extras.
        let first_basis = t.basis.first().copied().unwrap_or("");
        let chain_step = !t.chain.is_empty() && t.chain != "company";
        for mt in &t.mats {
            let mut m = Mat {
                name: mt.name.to_string(),
                kind: (!mt.kind.is_empty()).then_some(mt.kind),
                source: (!mt.source.is_empty()).then_some(mt.source),
                acq: (!mt.acq.is_empty()).then_some(mt.acq),
                provider: (!mt.provider.is_empty()).then(|| provider_name(region, self.depts, mt.provider)),
                basis: mt
                    .basis
                    .iter()
                    .map(|b| if *b == "@" { first_basis.to_string() } else { (*b).to_string() })
                    .collect(),
                note: (!mt.note.is_empty()).then(|| mt.note.to_string()),
                ..Mat::default()
            };
            if chain_step && let Some((_, acq)) = CHAIN_SHARED.iter().find(|(n, _)| *n == mt.name) {
                m.acq = Some(acq);
                m.provider = Some(match *acq {
                    "外部共享" => "医疗卫生机构".to_string(),
                    _ => provider_name(region, self.depts, "market"),
                });
            }
            item.materials.push(m);
        }
        let rng = &mut self.rng;
        // Extras an applicant may need; a later chain step leaves them to the first step.
        if !chain_step && item.materials.len() < 7 && rng.chance(0.45) && !has_material(&item, "授权委托书") {
            item.materials.push(Mat {
                name: "授权委托书".into(),
                kind: Some("其他"),
                source: Some("申请人"),
                acq: Some("申请人提交"),
                basis: vec![first_basis.to_string()],
                note: Some("委托代理人办理的提交".into()),
                ..Mat::default()
            });
            if rng.chance(0.5) && !has_material(&item, "受托人居民身份证") {
                item.materials.push(Mat {
                    name: "受托人居民身份证".into(),
                    kind: Some("证件"),
                    source: Some("申请人"),
                    acq: Some("申请人提交"),
                    basis: vec![first_basis.to_string()],
                    ..Mat::default()
                });
            }
        }
        for (name, p) in [("送达地址确认书", 0.4), ("申请人信用承诺书", 0.3)] {
            if item.materials.len() < 8 && rng.chance(p) && !has_material(&item, name) {
                item.materials.push(Mat {
                    name: name.into(),
                    kind: Some("申请表"),
                    source: Some("申请人"),
                    acq: Some("申请人提交"),
                    ..Mat::default()
                });
            }
        }
        if item.materials.len() < 3 && !has_material(&item, "近期免冠照片") {
            item.materials.push(Mat {
                name: "近期免冠照片".into(),
                kind: Some("其他"),
                source: Some("申请人"),
                acq: Some("免提交"),
                note: Some("现场采集".into()),
                ..Mat::default()
            });
        }
        let second_basis = t.basis.get(1).copied();
        for m in &mut item.materials {
            if let Some(b) = second_basis
                && !m.basis.is_empty()
                && m.kind != Some("证明")
                && !m.basis.iter().any(|x| x == b)
                && rng.chance(0.2)
            {
                m.basis.push(b.to_string());
            }
            if m.note.is_none() && rng.chance(0.35) {
                m.note = Some(rng.pick_str(CLEAN_NOTES).to_string());
            }
            if rng.chance(0.6) {
                m.copies = Some(1 + u32::from(rng.chance(0.2)));
            }
            if !m.is_form() && rng.chance(0.5) {
                m.format = Some(rng.pick_str(&["原件", "复印件", "电子件"]));
            }
        }
        let code = self.next_code(region, t.ty);
        item.code = code;
        let planted = if self.rng.chance(self.args.flaw_rate) { self.plant(ctx, t, &mut item) } else { Vec::new() };
        let duplicate = planted.contains(&"QD302");
        let malformed = planted.contains(&"QD303");
        let chain = (!t.chain.is_empty() && !duplicate).then_some(t.chain);
        (item, chain, !duplicate && !malformed && chain.is_none())
    }

    /// Plants one to three flaws in `item`; returns the rules planted.
    fn plant(&mut self, ctx: &FileCtx<'_>, t: &ItemT, item: &mut Item) -> Vec<&'static str> {
        let n = 1 + usize::from(self.rng.chance(0.2)) + usize::from(self.rng.chance(0.1));
        let total: u32 = WEIGHTS.iter().map(|w| w.1).sum();
        let mut chosen: Vec<&'static str> = Vec::new();
        // A later step of a 一件事 chain is most often flawed by asking again for what the first
        // step collected.
        if !t.chain.is_empty() && t.chain != "company" && self.rng.chance(0.5) {
            chosen.push("QD108");
        }
        let mut tries = 0;
        while chosen.len() < n && tries < 20 {
            tries += 1;
            let mut x = self.rng.below(u64::from(total)) as u32;
            let mut rule = "QD101";
            for &(r, w) in WEIGHTS {
                if x < w {
                    rule = r;
                    break;
                }
                x -= w;
            }
            let g = group(rule);
            if chosen.contains(&rule)
                || (!chosen.is_empty() && g == "alone")
                || chosen.iter().any(|c| group(c) == "alone" || (!g.is_empty() && group(c) == g))
            {
                continue;
            }
            chosen.push(rule);
        }
        // Material flaws first, citations after them (a certificate copies the item's basis),
        // the unused waiver last (it must name a rule that does not fire).
        chosen.sort_by_key(|r| match *r {
            "QD401" | "QD402" => 1,
            "QD902" => 2,
            _ => 0,
        });
        let mut planted = Vec::new();
        for rule in chosen {
            if self.plant_one(ctx, t, item, rule, &planted) {
                planted.push(rule);
            }
        }
        planted
    }

    /// Picks an untouched material that satisfies `ok`.
    fn pick_material(&mut self, item: &Item, ok: impl Fn(&Mat) -> bool) -> Option<usize> {
        let idx: Vec<usize> =
            item.materials.iter().enumerate().filter(|(_, m)| !m.touched && ok(m)).map(|(i, _)| i).collect();
        self.rng.pick(&idx).copied()
    }

    fn plant_one(
        &mut self,
        ctx: &FileCtx<'_>,
        t: &ItemT,
        item: &mut Item,
        rule: &'static str,
        planted: &[&str],
    ) -> bool {
        let first_basis = t.basis.first().copied().unwrap_or("").to_string();
        let region = ctx.region;
        let dept = ctx.dept;
        match rule {
            "QD101" => {
                let pick = self.pick_material(item, |m| {
                    !m.is_form() && !m.basis.is_empty() && m.kind != Some("证明") && m.submitted()
                });
                match pick.and_then(|i| item.materials.get_mut(i)) {
                    Some(m) if self.rng.chance(0.5) => {
                        m.basis.clear();
                        m.touched = true;
                    }
                    _ => {
                        let name = self.rng.pick_str(NO_BASIS);
                        if has_material(item, name) {
                            return false;
                        }
                        item.materials.push(Mat {
                            name: name.into(),
                            kind: Some("其他"),
                            source: Some("申请人"),
                            acq: Some("申请人提交"),
                            touched: true,
                            ..Mat::default()
                        });
                    }
                }
                self.expected.add(rule, 1);
            }
            "QD102" => {
                let pick = self.pick_material(item, |m| m.note.is_none() && !m.is_form());
                match pick.and_then(|i| item.materials.get_mut(i)) {
                    Some(m) if self.rng.chance(0.25) => {
                        m.note = Some(self.rng.pick_str(VAGUE_NOTES).to_string());
                        m.touched = true;
                    }
                    _ => {
                        let name = self.rng.pick_str(CATCH_ALL);
                        if has_material(item, name) {
                            return false;
                        }
                        let at = self.rng.index(item.materials.len() + 1).max(1).min(item.materials.len());
                        item.materials.insert(
                            at,
                            Mat {
                                name: name.into(),
                                kind: Some("其他"),
                                source: Some("申请人"),
                                acq: Some("申请人提交"),
                                basis: vec![first_basis],
                                touched: true,
                                ..Mat::default()
                            },
                        );
                    }
                }
                self.expected.add(rule, 1);
            }
            "QD103" => {
                let pick = self.pick_material(item, |m| CATALOG.contains(&norm(&m.name)) && !m.submitted());
                match pick.and_then(|i| item.materials.get_mut(i)) {
                    Some(m) if self.rng.chance(0.6) => {
                        m.acq = if self.rng.chance(0.5) { Some("申请人提交") } else { None };
                        if m.source == Some("本部门") {
                            m.source = None;
                        }
                        m.provider = None;
                        m.touched = true;
                    }
                    _ => {
                        let Some(&(name, kind)) = self.rng.pick(SHAREABLE) else { return false };
                        if has_material(item, name) {
                            return false;
                        }
                        let source = if self.rng.chance(0.5) { None } else { Some("申请人") };
                        item.materials.push(Mat {
                            name: name.into(),
                            kind: Some(kind),
                            source,
                            acq: if self.rng.chance(0.5) { Some("申请人提交") } else { None },
                            basis: vec![first_basis],
                            touched: true,
                            ..Mat::default()
                        });
                    }
                }
                self.expected.add(rule, 1);
            }
            "QD104" => {
                let name = self.rng.pick_str(VOID_CERTIFICATES);
                if has_material(item, name) || item.basis.is_empty() {
                    return false;
                }
                let basis = item.basis.clone();
                if only_low_level(&basis) {
                    self.expected.add("QD403", 1);
                }
                item.materials.push(Mat {
                    name: name.into(),
                    kind: Some("证明"),
                    source: Some("其他"),
                    acq: Some("申请人提交"),
                    basis,
                    touched: true,
                    ..Mat::default()
                });
                self.expected.add(rule, 1);
            }
            "QD105" => {
                let own = format!("原{}", t.own);
                if !t.own.is_empty() && !has_material(item, &own) {
                    item.materials.push(Mat {
                        name: own,
                        kind: Some("证照"),
                        source: Some("本部门"),
                        acq: Some("申请人提交"),
                        basis: vec![first_basis],
                        format: Some("原件"),
                        touched: true,
                        ..Mat::default()
                    });
                } else {
                    let pick = self.pick_material(item, |m| m.source == Some("本部门") && !m.submitted());
                    let Some(m) = pick.and_then(|i| item.materials.get_mut(i)) else { return false };
                    m.acq = Some("申请人提交");
                    m.provider = None;
                    m.touched = true;
                }
                self.expected.add(rule, 1);
            }
            "QD106" => {
                let pick = self.pick_material(item, |m| {
                    m.submitted() && !m.is_form() && m.kind != Some("证明") && !CATALOG.contains(&norm(&m.name))
                });
                let Some(i) = pick else { return false };
                let Some(m) = item.materials.get_mut(i) else { return false };
                m.touched = true;
                let mut copy = m.clone();
                copy.name = format!("{}复印件", m.name);
                copy.format = Some("复印件");
                copy.note = None;
                item.materials.insert(i + 1, copy);
                self.expected.add(rule, 1);
            }
            "QD107" => {
                let name = self.rng.pick_str(&dept.covered);
                if name.is_empty() || has_material(item, name) {
                    return false;
                }
                item.materials.push(Mat {
                    name: name.into(),
                    kind: Some("证照"),
                    acq: if self.rng.chance(0.5) { Some("申请人提交") } else { None },
                    basis: vec![first_basis],
                    touched: true,
                    ..Mat::default()
                });
                self.expected.add(rule, 1);
            }
            "QD108" => {
                // A later chain step that still asks the applicant for what the first step
                // collected; the findings are counted when the chains are formed.
                if t.chain.is_empty() || t.chain == "company" {
                    return false;
                }
                let mut any = false;
                for m in &mut item.materials {
                    if !m.touched && CHAIN_SHARED.iter().any(|(n, _)| *n == m.name) && (!any || self.rng.chance(0.5)) {
                        m.acq = Some("申请人提交");
                        m.provider = None;
                        any = true;
                    }
                }
                return any;
            }
            "QD201" => {
                let Some(legal) = item.legal else { return false };
                item.promised = Some(legal + 1 + self.rng.below(u64::from(legal.max(2))) as u32);
                item.promise = Some("限时办结");
                item.handling = Some("承办件");
                item.superior = None;
                self.expected.add(rule, 1);
            }
            "QD202" => {
                let legal = item.legal.unwrap_or(0);
                match self.rng.below(4) {
                    0 if legal >= 1 => {
                        item.promise = Some("即收即办");
                        item.promised = Some(1 + self.rng.below(u64::from(legal)) as u32);
                    }
                    1 if legal >= 2 => {
                        item.promise = Some("当日办结");
                        item.promised = Some(2 + self.rng.below(u64::from(legal - 1)) as u32);
                        item.handling = Some("承办件");
                    }
                    2 => {
                        item.promise = Some("限时办结");
                        item.promised = Some(0);
                    }
                    _ => {
                        item.promise = Some("代办服务");
                        item.superior = None;
                    }
                }
                self.expected.add(rule, 1);
            }
            "QD203" | "QD901" | "QD903" => {
                item.visits = Some(2 + u32::from(self.rng.chance(0.3)));
                if item.online == Some("全程网办") {
                    item.online = Some("网上预审");
                }
                let reason = Some(
                    self.rng
                        .pick_str(&[
                            "涉及现场查验，依法须申请人本人到场",
                            "须现场核验原件并采集信息",
                            "须现场勘查后方可作出决定",
                        ])
                        .to_string(),
                );
                let approved_by = approval(&mut self.rng, region);
                match rule {
                    "QD901" => {
                        item.waivers.push(Waiver { rule: "QD203", reason: None, approved_by, expires: None });
                        self.expected.add("QD901", 1);
                        self.expected.add("QD203", 1);
                    }
                    "QD903" => {
                        let expires = Some(self.rng.pick_str(&["2020-12-31", "2021-06-30", "2022-12-31"]));
                        item.waivers.push(Waiver { rule: "QD203", reason, approved_by, expires });
                        self.expected.add("QD903", 1);
                        self.expected.add("QD203", 1);
                    }
                    _ if self.rng.chance(0.25) => {
                        let expires = if self.rng.chance(0.5) { Some("2030-12-31") } else { None };
                        item.waivers.push(Waiver { rule: "QD203", reason, approved_by, expires });
                        *self.expected.waived.entry("QD203").or_default() += 1;
                    }
                    _ => self.expected.add("QD203", 1),
                }
            }
            "QD204" => {
                item.online = Some("全程网办");
                item.visits = Some(1);
                self.expected.add(rule, 1);
            }
            "QD301" => {
                let mut fields: Vec<&str> = vec![
                    "type",
                    "basis",
                    "legal_days",
                    "promised_days",
                    "visits",
                    "handling",
                    "promise",
                    "online",
                    "materials",
                ];
                if !ctx.header_department && t.unit.is_empty() {
                    fields.push("department");
                }
                let n = 1 + usize::from(self.rng.chance(0.2));
                for _ in 0..n {
                    match self.rng.pick_str(&fields) {
                        "type" => item.ty = None,
                        "basis" => item.basis.clear(),
                        "legal_days" => item.legal = None,
                        "promised_days" => item.promised = None,
                        "visits" => item.visits = None,
                        "handling" => item.handling = None,
                        "promise" => {
                            item.promise = None;
                            item.superior = None;
                        }
                        "online" => item.online = None,
                        "materials" => item.materials.clear(),
                        _ => item.department = None,
                    }
                }
                self.expected.add(rule, 1);
            }
            "QD302" => {
                let earlier: Vec<usize> =
                    self.recent.iter().enumerate().filter(|(_, r)| r.file < ctx.index).map(|(i, _)| i).collect();
                let i = match self.rng.pick(&earlier) {
                    Some(&i) => i,
                    None if !self.recent.is_empty() => self.rng.index(self.recent.len()),
                    None => return false,
                };
                if i >= self.recent.len() {
                    return false;
                }
                let r = self.recent.swap_remove(i);
                item.code = r.code;
                self.expected.add(rule, 2);
            }
            "QD303" => {
                let code = item.code.clone();
                let parts: Vec<&str> = code.split('-').collect();
                let (Some(a), Some(b), Some(c)) = (parts.first(), parts.get(1), parts.get(2)) else { return false };
                item.code = match self.rng.below(4) {
                    0 => format!("{a}{b}{c}"),
                    1 => format!("{a}-{}-{c}", b.to_lowercase()),
                    2 => format!("{a}-{b}-{}", c.trim_start_matches('0')),
                    _ => format!("{a}-{b}-0{c}"),
                };
                if item.code == code {
                    item.code = format!("{a}{b}{c}");
                }
                self.expected.add(rule, 1);
            }
            "QD401" => {
                let unknown = match self.rng.pick(&dept.unknown) {
                    Some(u) if self.rng.chance(0.7) => (*u).to_string(),
                    _ => format!(
                        "{}政务服务事项管理办法 第{}条",
                        region.name,
                        ["五", "八", "十二"].get(self.rng.index(3)).unwrap_or(&"五")
                    ),
                };
                let pick = self.pick_material(item, |m| !m.basis.is_empty() && m.kind != Some("证明"));
                match pick.and_then(|i| item.materials.get_mut(i)) {
                    Some(m) if self.rng.chance(0.3) => {
                        m.basis.push(unknown);
                        m.touched = true;
                    }
                    _ if !item.basis.is_empty() => item.basis.push(unknown),
                    _ => return false,
                }
                self.expected.add(rule, 1);
            }
            "QD402" => {
                if t.stale.is_empty() || item.basis.is_empty() {
                    return false;
                }
                item.basis.push(t.stale.to_string());
                self.expected.add(rule, 1);
            }
            "QD403" => {
                let Some((name, low)) = dept.lowcert else { return false };
                if let Some(m) = item.materials.iter_mut().find(|m| norm(&m.name) == name) {
                    if m.touched || m.kind != Some("证明") {
                        return false;
                    }
                    m.basis = vec![low.to_string()];
                    m.touched = true;
                } else {
                    item.materials.push(Mat {
                        name: name.into(),
                        kind: Some("证明"),
                        source: Some("其他"),
                        acq: Some("申请人提交"),
                        basis: vec![low.to_string()],
                        touched: true,
                        ..Mat::default()
                    });
                }
                self.expected.add(rule, 1);
            }
            "QD902" => {
                let visits_flaw = planted.iter().any(|p| group(p) == "visits");
                let candidates = ["QD101", "QD103", "QD105", "QD106", "QD107", "QD203"];
                let free: Vec<&'static str> = candidates
                    .iter()
                    .copied()
                    .filter(|r| !planted.contains(r) && (!visits_flaw || *r != "QD203"))
                    .filter(|r| *r != "QD203" || item.visits.is_some_and(|v| v <= 1))
                    .collect();
                let Some(&waived) = self.rng.pick(&free) else { return false };
                let reason = Some("没有明确依据但切实方便群众的材料，经审核予以保留".to_string());
                let approved_by = approval(&mut self.rng, region);
                item.waivers.push(Waiver { rule: waived, reason, approved_by, expires: Some("2030-12-31") });
                self.expected.add(rule, 1);
            }
            _ => return false,
        }
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Writing YAML

/// Key names of one file: English, or the Chinese aliases of SPEC §2.1.
struct Keys {
    list: &'static str,
    title: &'static str,
    region: &'static str,
    level: &'static str,
    header_department: &'static str,
    version: &'static str,
    items: &'static str,
    code: &'static str,
    name: &'static str,
    ty: &'static str,
    department: &'static str,
    basis: &'static str,
    handling: &'static str,
    promise: &'static str,
    legal_days: &'static str,
    promised_days: &'static str,
    visits: &'static str,
    online: &'static str,
    departments: &'static str,
    steps: &'static str,
    in_hall: &'static str,
    extendable: &'static str,
    citywide: &'static str,
    complex: &'static str,
    superior: &'static str,
    fee: &'static str,
    waivers: &'static str,
    materials: &'static str,
    material_name: &'static str,
    kind: &'static str,
    source: &'static str,
    acquisition: &'static str,
    provider: &'static str,
    material_basis: &'static str,
    copies: &'static str,
    format: &'static str,
    note: &'static str,
    rule: &'static str,
    reason: &'static str,
    approved_by: &'static str,
    expires: &'static str,
}

const EN: Keys = Keys {
    list: "list",
    title: "title",
    region: "region",
    level: "level",
    header_department: "department",
    version: "version",
    items: "items",
    code: "code",
    name: "name",
    ty: "type",
    department: "department",
    basis: "basis",
    handling: "handling",
    promise: "promise",
    legal_days: "legal_days",
    promised_days: "promised_days",
    visits: "visits",
    online: "online",
    departments: "departments",
    steps: "steps",
    in_hall: "in_hall",
    extendable: "extendable",
    citywide: "citywide",
    complex: "complex",
    superior: "superior",
    fee: "fee",
    waivers: "waivers",
    materials: "materials",
    material_name: "name",
    kind: "kind",
    source: "source",
    acquisition: "acquisition",
    provider: "provider",
    material_basis: "basis",
    copies: "copies",
    format: "format",
    note: "note",
    rule: "rule",
    reason: "reason",
    approved_by: "approved_by",
    expires: "expires",
};

const ZH: Keys = Keys {
    list: "清单",
    title: "标题",
    region: "地区",
    level: "层级",
    header_department: "部门",
    version: "版本",
    items: "事项",
    code: "事项编码",
    name: "事项名称",
    ty: "事项类型",
    department: "实施主体",
    basis: "设定依据",
    handling: "办件类型",
    promise: "四办类别",
    legal_days: "法定时限",
    promised_days: "承诺时限",
    visits: "到现场次数",
    online: "网办深度",
    departments: "办理部门",
    steps: "办理环节",
    in_hall: "入驻大厅",
    extendable: "基层延伸",
    citywide: "同城通办",
    complex: "复杂情形",
    superior: "上级机关",
    fee: "收费",
    waivers: "豁免",
    materials: "申请材料",
    material_name: "材料名称",
    kind: "材料类型",
    source: "材料来源",
    acquisition: "获取方式",
    provider: "获取部门",
    material_basis: "依据",
    copies: "份数",
    format: "形式",
    note: "备注",
    rule: "规则",
    reason: "理由",
    approved_by: "批准文件",
    expires: "失效日期",
};

/// How one file is written.
struct Style {
    keys: &'static Keys,
    /// Chance that an item's materials are written in flow style (`- {name: …, kind: …}`).
    flow_materials: f64,
    flow_basis: bool,
    /// Chance that a whole item is written on one line in flow style.
    flow_item: f64,
}

/// The `key: value` pairs of one material, in order.
fn material_pairs(k: &Keys, m: &Mat, flow_basis: bool) -> Vec<(&'static str, Value)> {
    let mut p = vec![(k.material_name, Value::Str(m.name.clone()))];
    if let Some(v) = m.kind {
        p.push((k.kind, Value::Str(v.into())));
    }
    if let Some(v) = m.source {
        p.push((k.source, Value::Str(v.into())));
    }
    if let Some(v) = m.acq {
        p.push((k.acquisition, Value::Str(v.into())));
    }
    if let Some(v) = &m.provider {
        p.push((k.provider, Value::Str(v.clone())));
    }
    if !m.basis.is_empty() {
        p.push((k.material_basis, Value::List(m.basis.clone(), flow_basis)));
    }
    if let Some(v) = m.copies {
        p.push((k.copies, Value::Raw(v.to_string())));
    }
    if let Some(v) = m.format {
        p.push((k.format, Value::Str(v.into())));
    }
    if let Some(v) = &m.note {
        p.push((k.note, Value::Str(v.clone())));
    }
    p
}

fn waiver_pairs(k: &Keys, w: &Waiver) -> Vec<(&'static str, Value)> {
    let mut p = vec![(k.rule, Value::Str(w.rule.into()))];
    if let Some(r) = &w.reason {
        p.push((k.reason, Value::Str(r.clone())));
    }
    p.push((k.approved_by, Value::Str(w.approved_by.clone())));
    if let Some(e) = w.expires {
        p.push((k.expires, Value::Raw(e.into())));
    }
    p
}

#[derive(Debug, Clone)]
enum Value {
    /// A plain scalar (every generated string is safe unquoted).
    Str(String),
    /// A number, boolean or date, written as is.
    Raw(String),
    /// A double-quoted string (item codes).
    Quoted(String),
    /// A list of plain scalars; `true` writes it in flow style.
    List(Vec<String>, bool),
    /// A list of mappings; `true` writes each mapping in flow style.
    Maps(Vec<Vec<(&'static str, Value)>>, bool),
}

fn write_flow(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) | Value::Raw(s) => out.push_str(s),
        Value::Quoted(s) => {
            let _ = write!(out, "\"{s}\"");
        }
        Value::List(xs, _) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(x);
            }
            out.push(']');
        }
        Value::Maps(ms, _) => {
            out.push('[');
            for (i, m) in ms.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow_map(out, m);
            }
            out.push(']');
        }
    }
}

fn write_flow_map(out: &mut String, pairs: &[(&'static str, Value)]) {
    out.push('{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push_str(": ");
        write_flow(out, v);
    }
    out.push('}');
}

/// Writes the pairs of a block mapping; the first line continues after `first` (e.g. "  - "),
/// the others are indented by `indent` spaces.
fn write_block_map(out: &mut String, pairs: &[(&'static str, Value)], first: &str, indent: usize) {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i == 0 {
            out.push_str(first);
        } else {
            out.extend(std::iter::repeat_n(' ', indent));
        }
        out.push_str(k);
        out.push(':');
        match v {
            Value::List(xs, false) if !xs.is_empty() => {
                out.push('\n');
                for x in xs {
                    out.extend(std::iter::repeat_n(' ', indent + 2));
                    out.push_str("- ");
                    out.push_str(x);
                    out.push('\n');
                }
            }
            Value::Maps(ms, flow) if !ms.is_empty() => {
                out.push('\n');
                let dash = format!("{}- ", " ".repeat(indent + 2));
                for m in ms {
                    if *flow {
                        out.push_str(&dash);
                        write_flow_map(out, m);
                        out.push('\n');
                    } else {
                        write_block_map(out, m, &dash, indent + 4);
                    }
                }
            }
            _ => {
                out.push(' ');
                write_flow(out, v);
                out.push('\n');
            }
        }
    }
}

fn item_pairs(k: &Keys, item: &Item, style: &Style, flow_materials: bool) -> Vec<(&'static str, Value)> {
    let mut p = vec![(k.code, Value::Quoted(item.code.clone())), (k.name, Value::Str(item.name.clone()))];
    if let Some(v) = item.ty {
        p.push((k.ty, Value::Str(v.into())));
    }
    if let Some(v) = &item.department {
        p.push((k.department, Value::Str(v.clone())));
    }
    if !item.basis.is_empty() {
        p.push((k.basis, Value::List(item.basis.clone(), style.flow_basis)));
    }
    if let Some(v) = item.handling {
        p.push((k.handling, Value::Str(v.into())));
    }
    if let Some(v) = item.promise {
        p.push((k.promise, Value::Str(v.into())));
    }
    if let Some(v) = item.legal {
        p.push((k.legal_days, Value::Raw(v.to_string())));
    }
    if let Some(v) = item.promised {
        p.push((k.promised_days, Value::Raw(v.to_string())));
    }
    if let Some(v) = item.visits {
        p.push((k.visits, Value::Raw(v.to_string())));
    }
    if let Some(v) = item.online {
        p.push((k.online, Value::Str(v.into())));
    }
    p.push((k.departments, Value::List(item.departments.clone(), true)));
    p.push((k.steps, Value::Raw(item.steps.to_string())));
    p.push((k.in_hall, Value::Raw(item.in_hall.to_string())));
    p.push((k.extendable, Value::Raw(item.extendable.to_string())));
    p.push((k.citywide, Value::Raw(item.citywide.to_string())));
    if !item.complex.is_empty() {
        p.push((k.complex, Value::List(item.complex.iter().map(ToString::to_string).collect(), true)));
    }
    if let Some(v) = &item.superior {
        p.push((k.superior, Value::Str(v.clone())));
    }
    p.push((k.fee, Value::Str(item.fee.clone())));
    if !item.waivers.is_empty() {
        p.push((k.waivers, Value::Maps(item.waivers.iter().map(|w| waiver_pairs(k, w)).collect(), true)));
    }
    if !item.materials.is_empty() {
        let ms = item.materials.iter().map(|m| material_pairs(k, m, style.flow_basis || flow_materials)).collect();
        p.push((k.materials, Value::Maps(ms, flow_materials)));
    }
    p
}

// ---------------------------------------------------------------------------------------------
// Running

fn prepare_out(out: &Path) -> Result<(), String> {
    if out.exists() {
        let empty = fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))?.next().is_none();
        if out.join(MARKER).exists() {
            fs::remove_dir_all(out).map_err(|e| format!("cannot clear {}: {e}", out.display()))?;
        } else if !empty {
            return Err(format!(
                "{} exists and was not written by qingdan-gen (no {MARKER}); give an empty or new directory",
                out.display()
            ));
        }
    }
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

fn run(args: &Args) -> Result<String, String> {
    if args.files == 0 || args.items < args.files {
        return Err(format!(
            "--items ({}) must be at least --files ({}), and --files at least 1",
            args.items, args.files
        ));
    }
    if !(0.0..=1.0).contains(&args.flaw_rate) {
        return Err("--flaw-rate must lie between 0 and 1".into());
    }
    let depts = parse_templates()?;
    let mut rng = Rng::new(args.seed);
    let (regions, plans) = plan(args, &depts, &mut rng)?;
    prepare_out(&args.out)?;

    // The jurisdiction: the one region, the one province, or the whole country.
    let jurisdiction = match (regions.first(), regions.last()) {
        (Some(a), Some(_)) if regions.len() == 1 => a.name.clone(),
        (Some(a), Some(b)) if a.province == b.province => a.province.to_string(),
        _ => "全国".to_string(),
    };
    let config = args.out.join("qingdan.yaml");
    fs::write(
        &config,
        format!(
            "# Written by qingdan-gen --items {} --files {} --seed {} --flaw-rate {}\njurisdiction: {jurisdiction}\ncode_pattern: '^\\d{{6}}-[A-Z]{{2}}-\\d{{4}}$'\n",
            args.items, args.files, args.seed, args.flaw_rate
        ),
    )
    .map_err(io_err(&config))?;
    let chains_path = args.out.join("chains.yaml");
    let chain_file = File::create(&chains_path).map_err(io_err(&chains_path))?;
    let mut chain_out = BufWriter::new(chain_file);
    writeln!(
        chain_out,
        "# 一件事一次办 chains (主题式服务) over the generated lists; steps are item codes in handling order."
    )
    .map_err(io_err(&chains_path))?;

    let mut g = Gen {
        args,
        depts: &depts,
        rng,
        expected: Expected::default(),
        recent: Vec::new(),
        region_state: RegionState::default(),
        items: 0,
        materials: 0,
        bytes: 0,
        chains: 0,
        chain_out,
        chain_started: false,
    };
    let width = if args.files > 9999 { 6 } else { 4 };
    let mut current_region = usize::MAX;
    for (index, p) in plans.iter().enumerate() {
        let (Some(region), Some(dept)) = (regions.get(p.region), depts.get(p.dept)) else { continue };
        if p.region != current_region {
            if let Some(previous) = regions.get(current_region) {
                g.flush_chains(previous).map_err(io_err(&chains_path))?;
            }
            g.region_state = RegionState::default();
            current_region = p.region;
        }
        let dir = args.out.join(format!("{:06}", region.code));
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = dir.join(format!("{index:0width$}-{}.yaml", dept.key));
        g.write_file(&path, index as u64, region, dept, p).map_err(io_err(&path))?;
    }
    if let Some(previous) = regions.get(current_region) {
        g.flush_chains(previous).map_err(io_err(&chains_path))?;
    }
    g.chain_out.flush().map_err(io_err(&chains_path))?;
    if g.chain_started {
        g.bytes += fs::metadata(&chains_path).map(|m| m.len()).unwrap_or(0);
    } else {
        // No region had the items of a whole chain (qingdan refuses a file with `chains: []` alone).
        fs::remove_file(&chains_path).map_err(io_err(&chains_path))?;
    }

    let mut by_rule = String::new();
    let mut json_rules = String::new();
    for r in RULES {
        let n = g.expected.findings.get(r).copied().unwrap_or(0);
        let _ = write!(by_rule, " {r} {n}");
        let _ = write!(json_rules, "{}\"{r}\": {n}", if json_rules.is_empty() { "" } else { ", " });
    }
    let waived: Vec<String> = g.expected.waived.iter().map(|(r, n)| format!("\"{r}\": {n}")).collect();
    let total: u64 = g.expected.findings.values().sum();
    let json = format!(
        "{{\"generator\": \"qingdan-gen\", \"items\": {}, \"files\": {}, \"seed\": {}, \"flaw_rate\": {}, \"regions\": {}, \"materials\": {}, \"bytes\": {}, \"chains\": {}, \"jurisdiction\": \"{jurisdiction}\", \"expected_findings\": {total}, \"by_rule\": {{{json_rules}}}, \"waived\": {{{}}}}}\n",
        g.items,
        args.files,
        args.seed,
        args.flaw_rate,
        regions.len(),
        g.materials,
        g.bytes,
        g.chains,
        waived.join(", ")
    );
    let marker = args.out.join(MARKER);
    fs::write(&marker, json).map_err(io_err(&marker))?;
    Ok(format!(
        "qingdan-gen: {} items, {} materials in {} list files{}, {} regions, {:.1} MB in {}\nexpected findings: {total} (not waived);{by_rule}; waived: {}",
        g.items,
        g.materials,
        args.files,
        if g.chains > 0 { format!(" + chains.yaml ({} chains)", g.chains) } else { String::new() },
        regions.len(),
        g.bytes as f64 / 1e6,
        args.out.display(),
        if waived.is_empty() { "none".to_string() } else { waived.join(", ").replace('"', "") }
    ))
}

impl Gen<'_> {
    fn write_file(&mut self, path: &Path, index: u64, region: &Region, dept: &Dept, p: &FilePlan) -> io::Result<()> {
        let rng = &mut self.rng;
        let keys: &'static Keys = if index > 0 && rng.chance(0.2) { &ZH } else { &EN };
        let style = Style {
            keys,
            flow_materials: if rng.chance(0.3) { 0.85 } else { 0.05 },
            flow_basis: rng.chance(0.8),
            flow_item: if rng.chance(0.1) { 0.3 } else { 0.0 },
        };
        let header_department = rng.chance(0.9);
        let k = style.keys;
        let department = dept_name(region, dept);
        let batch = if p.batch > 1 {
            format!("（第{}批）", ["一", "二", "三", "四", "五"].get(p.batch as usize - 1).unwrap_or(&"二"))
        } else {
            String::new()
        };
        let version = format!("\"20{:02}-{:02}-01\"", 19 + rng.below(7), 1 + rng.below(12));
        let mut head = String::new();
        let _ = writeln!(head, "# {}{}政务服务事项清单 —— {department}{batch}", region.name, region.level);
        let _ = writeln!(head, "{}:", k.list);
        let _ = writeln!(
            head,
            "  {}: {}{}\"最多跑一次\"政务服务事项清单（{department}）{batch}",
            k.title, region.name, region.level
        );
        let _ = writeln!(head, "  {}: {}", k.region, region.name);
        let _ = writeln!(head, "  {}: {}", k.level, region.level);
        if header_department {
            let _ = writeln!(head, "  {}: {department}", k.header_department);
        }
        let _ = writeln!(head, "  {}: {version}", k.version);
        let _ = writeln!(head, "{}:", k.items);
        let file = File::create(path)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.write_all(head.as_bytes())?;
        let mut bytes = head.len() as u64;
        let ctx = FileCtx { index, region, dept, header_department };
        let mut buf = String::with_capacity(4096);
        for _ in 0..p.items {
            let (item, chain, recent) = self.gen_item(&ctx);
            buf.clear();
            if self.rng.chance(0.1) {
                let y = 2019 + self.rng.below(7);
                let what = self.rng.pick_str(&[
                    "压缩承诺时限",
                    "精简申请材料",
                    "调整办理环节",
                    "新增事项",
                    "调整实施主体",
                    "更新设定依据",
                ]);
                let _ = writeln!(buf, "  # {y}年调整：{what}");
            }
            let flow_materials = self.rng.chance(style.flow_materials);
            let pairs = item_pairs(k, &item, &style, flow_materials);
            if self.rng.chance(style.flow_item) {
                buf.push_str("  - ");
                write_flow_map(&mut buf, &pairs);
                buf.push('\n');
            } else {
                write_block_map(&mut buf, &pairs, "  - ", 4);
            }
            if self.rng.chance(0.3) {
                buf.push('\n');
            }
            out.write_all(buf.as_bytes())?;
            bytes += buf.len() as u64;
            self.items += 1;
            self.materials += item.materials.len() as u64;
            if recent {
                if self.recent.len() >= RECENT {
                    let i = self.rng.index(self.recent.len());
                    self.recent.swap_remove(i);
                }
                self.recent.push(Recent { file: index, code: item.code.clone() });
            }
            if let Some(tag) = chain {
                let list = self.region_state.candidates.entry(tag).or_default();
                if list.len() < MAX_CANDIDATES {
                    let submitted = item
                        .materials
                        .iter()
                        .filter(|m| !m.is_form() && m.submitted())
                        .map(|m| norm(&m.name).to_string())
                        .collect();
                    list.push(Candidate { code: item.code.clone(), submitted });
                }
            }
        }
        out.flush()?;
        self.bytes += bytes;
        Ok(())
    }

    /// Forms the region's 一件事 chains from its candidates and writes them.
    fn flush_chains(&mut self, region: &Region) -> io::Result<()> {
        let mut text = String::new();
        let mut k = 0usize;
        for &(theme, tags) in THEMES {
            let Some((first, rest)) = tags.split_first() else { continue };
            for n in 0..MAX_CHAINS_PER_THEME {
                let companies = self.region_state.candidates.get(first).map_or(0, Vec::len);
                if companies == 0 || rest.iter().any(|t| self.region_state.candidates.get(t).is_none_or(Vec::is_empty))
                {
                    break;
                }
                let mut steps: Vec<Candidate> = Vec::new();
                if let Some(c) = self.region_state.candidates.get(first).and_then(|v| v.get(k % companies)) {
                    steps.push(Candidate { code: c.code.clone(), submitted: c.submitted.clone() });
                }
                for t in rest {
                    if let Some(c) = self.region_state.candidates.get_mut(t).and_then(Vec::pop) {
                        steps.push(c);
                    }
                }
                k += 1;
                // QD108: one finding per (chain, step, material) collected at an earlier step.
                let mut repeats = 0;
                for (i, s) in steps.iter().enumerate().skip(1) {
                    for m in &s.submitted {
                        if steps.iter().take(i).any(|p| p.submitted.contains(m)) {
                            repeats += 1;
                        }
                    }
                }
                self.expected.add("QD108", repeats);
                let name = if n == 0 {
                    format!("{theme}（{}）", region.name)
                } else {
                    format!("{theme}（{}·{}）", region.name, n + 1)
                };
                let codes: Vec<String> = steps.iter().map(|s| format!("\"{}\"", s.code)).collect();
                let _ = writeln!(text, "  - {{name: {name}, steps: [{}]}}", codes.join(", "));
                self.chains += 1;
            }
        }
        if !text.is_empty() {
            if !self.chain_started {
                self.chain_out.write_all(b"chains:\n")?;
                self.chain_started = true;
            }
            self.chain_out.write_all(text.as_bytes())?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

/// The department and item templates (see the header of the table).
const TEMPLATES: &str = r#"
# Department and item templates for qingdan-gen, modelled on corpus/ (大庆, 云浮) and on real 办事指南.
# Every citation names a statute of the built-in registry (policies/statutes.yaml) by its short
# name or title. Lines:
#   D key|city stem|province stem|ministry|weight|low-level certificate@citation|covered;…|unknown citation;…
#   I name|type|basis;…|legal days|mode|online|unit|chain step|own licence|complex|fee|stale citation
#   V variant/variant/…                    (the item's name becomes 名称（变体）)
#   M name|kind|source|acquisition|basis;…|provider|note   (basis @ = the item's first citation)
# mode: 即办 | 当日 | 限时 | 代办; online: 全程 | 预审 | 不可.

D transport|交通运输局|交通运输厅|交通运输部|10|安全驾驶经历证明@巡游出租汽车经营服务管理规定 第十三条|组织机构代码证;税务登记证;社会保险登记证|道路运输管理条例 第二十三条;道路运输从业人员管理规定 第九条
I 道路运输从业人员从业资格认定|行政许可|道路运输条例 第九条;道路运输条例 第二十二条|10|限时|预审||||||
V 经营性道路旅客运输驾驶员/道路货物运输驾驶员/道路危险货物运输驾驶员/道路危险货物运输押运人员/道路危险货物运输装卸管理人员/机动车驾驶培训教练员
M 道路运输从业人员从业资格考试申请表|申请表
M 居民身份证|证件|申请人|申请人提交|道路运输条例 第九条
M 机动车驾驶证|证照|其他部门|内部共享|道路运输条例 第九条|police
M 驾驶人三年内交通事故记录查询结果|其他|其他部门|内部共享|道路运输条例 第九条|police
M 安全驾驶经历证明|证明|其他部门|内部共享|道路运输条例 第九条|police
M 近期免冠照片|其他|申请人|免提交|||现场采集
I 道路旅客运输经营许可|行政许可|道路运输条例 第八条;道路运输条例 第十条|20|限时|预审|||道路运输经营许可证|现场勘查||
M 道路旅客运输经营申请表|申请表
M 营业执照|证照|其他部门|内部共享|道路运输条例 第十条|market
M 法定代表人身份证|证件|申请人|申请人提交|道路运输条例 第十条
M 可行性报告|报告|申请人|申请人提交|道路运输条例 第十条
M 拟投入车辆承诺书|其他|申请人|申请人提交|道路运输条例 第十条
M 道路运输从业人员从业资格证|证照|本部门|内部共享|道路运输条例 第九条|transport
M 安全生产管理制度文本|其他|申请人|申请人提交|道路运输条例 第八条
I 道路货物运输经营许可（使用总质量4500千克以上普通货运车辆）|行政许可|道路运输条例 第二十一条;道路运输条例 第二十四条|20|限时|全程||freight|道路运输经营许可证|||
M 道路货物运输经营申请表|申请表
M 营业执照|证照|其他部门|内部共享|道路运输条例 第二十四条|market
M 法定代表人身份证|证件|申请人|申请人提交|道路运输条例 第二十四条
M 拟投入车辆承诺书|其他|申请人|申请人提交|道路运输条例 第二十一条
M 驾驶人员从业资格证|证照|本部门|内部共享|道路运输条例 第二十二条|transport
M 安全生产管理制度文本|其他|申请人|申请人提交|道路运输条例 第二十一条
M 经营场所租赁合同|合同协议|申请人|申请人提交|道路运输条例 第二十一条
I 道路货物运输车辆《道路运输证》配发|行政许可|道路运输条例 第二十四条|20|即办|全程||freight2|道路运输证|||
M 道路运输证配发申请表|申请表
M 道路运输经营许可证|证照|本部门|内部共享|道路运输条例 第二十四条|transport
M 机动车行驶证|证照|其他部门|内部共享|道路运输条例 第二十四条|police
M 车辆综合性能检测报告|报告|中介机构|网络核验|道路运输条例 第三十条|机动车检验检测机构
M 车辆技术等级评定结论|报告|中介机构|网络核验|道路运输条例 第三十条|机动车检验检测机构
I 巡游出租汽车经营许可|行政许可|国务院令第412号;巡游出租汽车经营服务管理规定 第八条|20|限时|预审||taxi||现场勘查||
M 巡游出租汽车经营申请表|申请表
M 投资人、负责人身份证明|证件|申请人|申请人提交|巡游出租汽车经营服务管理规定 第九条
M 营业执照|证照|其他部门|内部共享|巡游出租汽车经营服务管理规定 第九条|market
M 拟投入车辆承诺书|其他|申请人|申请人提交|巡游出租汽车经营服务管理规定 第九条
M 经营管理制度、安全生产管理制度和服务质量保障制度文本|其他|申请人|申请人提交|巡游出租汽车经营服务管理规定 第九条
M 经营场所和停车场地租赁合同|合同协议|申请人|申请人提交|巡游出租汽车经营服务管理规定 第九条
I 巡游出租汽车车辆运营证核发|行政许可|国务院令第412号;巡游出租汽车经营服务管理规定 第十八条|20|限时|全程||taxi2||||
M 巡游出租汽车车辆运营证申请表|申请表
M 机动车行驶证|证照|其他部门|内部共享|巡游出租汽车经营服务管理规定 第十八条|police
M 车辆经营权使用合同|合同协议|申请人|申请人提交|巡游出租汽车经营服务管理规定 第十三条
M 机动车安全技术检验报告|报告|中介机构|网络核验|巡游出租汽车经营服务管理规定 第十八条|机动车检验检测机构
M 机动车交通事故责任强制保险单|合同协议|其他|网络核验|巡游出租汽车经营服务管理规定 第十八条|保险公司
I 巡游出租汽车驾驶员从业资格认定|行政许可|国务院令第412号|20|限时|预审||||||
M 巡游出租汽车驾驶员从业资格考试申请表|申请表
M 居民身份证|证件|申请人|网络核验|国务院令第412号
M 机动车驾驶证|证照|其他部门|内部共享|国务院令第412号|police
M 无犯罪记录证明|证明|其他部门|内部共享|道路运输条例 第九条|police
M 安全驾驶经历证明|证明|其他部门|外部共享|道路运输条例 第九条|police
I 机动车维修经营备案|行政备案|道路运输条例 第三十七条;道路运输条例 第四十条|5|即办|全程||||||
V 新办/变更
M 机动车维修经营备案表|申请表
M 营业执照|证照|其他部门|内部共享|道路运输条例 第四十条|market
M 维修经营场地租赁合同|合同协议|申请人|申请人提交|道路运输条例 第三十七条
M 主要维修设备设施汇总表|其他|申请人|申请人提交|道路运输条例 第三十七条
M 技术人员汇总表|其他|申请人|申请人提交|道路运输条例 第三十七条
I 机动车驾驶员培训备案|行政备案|道路运输条例 第三十八条;道路运输条例 第四十条|5|即办|全程||||||
M 机动车驾驶员培训备案表|申请表
M 营业执照|证照|其他部门|内部共享|道路运输条例 第四十条|market
M 教练场地租赁合同|合同协议|申请人|申请人提交|道路运输条例 第三十八条
M 教学车辆机动车行驶证|证照|其他部门|内部共享|道路运输条例 第三十八条|police
M 教练员名册|其他|申请人|申请人提交|道路运输条例 第三十八条
M 安全生产管理制度文本|其他|申请人|申请人提交|道路运输条例 第三十八条
I 道路运输经营许可证遗失补发|其他行政权力|道路运输条例 第二十四条|5|即办|全程|||道路运输经营许可证|||
M 道路运输经营许可证补发申请表|申请表
M 遗失声明|其他|申请人|申请人提交|道路运输条例 第二十四条||在市级以上报刊或者政务服务平台刊登
M 营业执照|证照|其他部门|内部共享|道路运输条例 第二十四条|market
I 道路运输车辆年度审验|其他行政权力|道路运输条例 第三十条|5|当日|预审|||道路运输证|||
M 道路运输车辆年度审验申请表|申请表
M 道路运输证|证照|本部门|内部共享|道路运输条例 第三十条|transport
M 机动车行驶证|证照|其他部门|内部共享|道路运输条例 第三十条|police
M 车辆综合性能检测报告|报告|中介机构|网络核验|道路运输条例 第三十条|机动车检验检测机构
I 道路旅客运输班线经营许可|行政许可|道路运输条例 第十条;道路运输条例 第十一条|20|代办|预审|||道路运输经营许可证|||
V 跨省/跨市
M 道路旅客运输班线经营申请表|申请表
M 道路运输经营许可证|证照|本部门|内部共享|道路运输条例 第十条|transport
M 起讫地客运站进站协议|合同协议|申请人|申请人提交|道路运输条例 第十条
M 运输服务质量承诺书|其他|申请人|申请人提交|道路运输条例 第十条
M 拟投入车辆承诺书|其他|申请人|申请人提交|道路运输条例 第十条

D police|公安局|公安厅|公安部|12|机动车驾驶人身体条件证明@机动车驾驶证申领和使用规定 第十九条|组织机构代码证;税务登记证|机动车登记规定 第五条;出入境证件申请管理办法 第七条
I 机动车驾驶证核发|行政许可|道路交通安全法 第十九条;机动车驾驶证申领和使用规定 第十九条|1|即办|预审|交通警察支队|||||
V 初次申领/增加准驾车型申请/持境外机动车驾驶证申请
M 机动车驾驶证申请表|申请表
M 居民身份证|证件|申请人|申请人提交|道路交通安全法 第十九条
M 机动车驾驶人身体条件证明|证明|其他|申请人提交|道路交通安全法 第十九条;机动车驾驶证申领和使用规定 第十九条
M 近期免冠照片|其他|申请人|免提交|||现场采集
I 机动车驾驶证期满换证|其他行政权力|道路交通安全法 第十九条;机动车驾驶证申领和使用规定 第七十条|1|即办|全程|交通警察支队|||||
M 机动车驾驶证申请表|申请表
M 机动车驾驶证|证照|本部门|内部共享|机动车驾驶证申领和使用规定 第七十条|police
M 机动车驾驶人身体条件证明|证明|其他|外部共享|道路交通安全法 第十九条;机动车驾驶证申领和使用规定 第七十条|医疗机构
M 居民身份证|证件|申请人|网络核验|道路交通安全法 第十九条
I 机动车驾驶证遗失补证|其他行政权力|道路交通安全法 第十九条;机动车驾驶证申领和使用规定 第七十二条|1|即办|全程|交通警察支队|||||
M 机动车驾驶证补证申请表|申请表
M 居民身份证|证件|申请人|网络核验|道路交通安全法 第十九条
M 近期免冠照片|其他|申请人|免提交|||现场采集
I 机动车注册登记|行政确认|道路交通安全法 第八条;道路交通安全法 第九条|5|当日|预审|交通警察支队|||现场勘查||
M 机动车注册登记申请表|申请表
M 机动车所有人的身份证明|证件|申请人|申请人提交|道路交通安全法 第九条
M 机动车来历证明|其他|申请人|申请人提交|道路交通安全法 第九条
M 机动车整车出厂合格证明|证照|其他|网络核验|道路交通安全法 第九条|机动车生产企业
M 车辆购置税完税证明|其他|其他部门|内部共享|道路交通安全法 第九条|tax
M 机动车交通事故责任强制保险凭证|合同协议|其他|网络核验|道路交通安全法 第十七条|保险公司
I 机动车转移登记|行政确认|道路交通安全法 第八条;道路交通安全法 第十二条|5|当日|预审|交通警察支队|||现场勘查||
M 机动车转移登记申请表|申请表
M 现机动车所有人的身份证明|证件|申请人|申请人提交|道路交通安全法 第十二条
M 机动车所有权转移的证明、凭证|其他|申请人|申请人提交|道路交通安全法 第十二条
M 机动车登记证书|证照|本部门|内部共享|道路交通安全法 第十二条|police
M 机动车行驶证|证照|本部门|内部共享|道路交通安全法 第十二条|police
I 普通护照签发|行政许可|护照法 第五条;护照法 第六条|15|限时|预审|出入境管理支队||||按规定收取证件工本费|
V 首次申请/换发/补发/未满十六周岁
M 中国公民出入境证件申请表|申请表
M 居民身份证|证件|申请人|申请人提交|护照法 第六条
M 居民户口簿|证件|本部门|内部共享|护照法 第六条|police
M 近期免冠照片|其他|申请人|免提交|||现场采集
M 单位同意办理出入境证件的函|证明|其他|申请人提交|护照法 第六条||登记备案的国家工作人员提交
I 居民身份证申领|行政确认|居民身份证法 第八条;居民身份证法 第十条|60|限时|预审|||||按规定收取证件工本费|
V 首次申领/换领/补领
M 居民身份证申领登记表|申请表
M 居民户口簿|证件|本部门|内部共享|居民身份证法 第十条|police
M 相片|其他|申请人|免提交|||现场采集
M 原居民身份证|证件|申请人|申请人提交|居民身份证法 第十条||换领的交回
I 校车驾驶资格许可|行政许可|校车安全管理条例 第二十三条;校车安全管理条例 第二十四条|5|限时|预审|交通警察支队|||||
M 校车驾驶资格申请表|申请表
M 居民身份证|证件|申请人|申请人提交|校车安全管理条例 第二十四条
M 机动车驾驶证|证照|本部门|内部共享|校车安全管理条例 第二十三条|police
M 身体条件证明|证明|其他|申请人提交|校车安全管理条例 第二十三条
M 无犯罪记录证明|证明|本部门|内部共享|校车安全管理条例 第二十三条|police
I 旅馆业特种行业许可证核发|行政许可|国务院令第412号|20|限时|预审|治安管理支队|hotel|旅馆业特种行业许可证|现场勘查||
M 旅馆业特种行业许可证申请表|申请表
M 营业执照|证照|其他部门|内部共享|国务院令第412号|market
M 法定代表人身份证|证件|申请人|申请人提交|国务院令第412号
M 经营场所租赁合同|合同协议|申请人|申请人提交|国务院令第412号
M 旅馆平面图|图纸|申请人|申请人提交|国务院令第412号
M 治安保卫制度和安全防范措施|其他|申请人|申请人提交|国务院令第412号
I 公章刻制业特种行业许可证核发|行政许可|国务院令第412号|20|限时|预审|治安管理支队||公章刻制业特种行业许可证|现场勘查||
M 公章刻制业特种行业许可证申请表|申请表
M 营业执照|证照|其他部门|内部共享|国务院令第412号|market
M 法定代表人身份证|证件|申请人|申请人提交|国务院令第412号
M 生产经营场所平面图|图纸|申请人|申请人提交|国务院令第412号
M 治安保卫制度|其他|申请人|申请人提交|国务院令第412号
M 印章刻制设备清单|其他|申请人|申请人提交|国务院令第412号

D market|市场监督管理局|市场监督管理局|国家市场监督管理总局|12|从业人员健康证明@食品经营许可和备案管理办法 第十二条|组织机构代码证;税务登记证;个体工商户税务登记证;食品流通许可证;餐饮服务许可证|公司登记管理条例 第二十条;企业登记程序规定 第九条
I 有限责任公司设立登记|行政许可|市场主体登记管理条例 第十六条;市场主体登记管理条例 第十九条|3|当日|全程||company|营业执照|||
M 公司登记（备案）申请书|申请表
M 公司章程|其他|申请人|申请人提交|市场主体登记管理条例 第十六条
M 法定代表人身份证|证件|申请人|申请人提交|市场主体登记管理条例 第十六条
M 其他股东的身份证明|证件|申请人|申请人提交|市场主体登记管理条例 第十六条||自然人股东提交身份证件，法人股东提交主体资格文件
M 董事、监事和经理的任职文件|其他|申请人|申请人提交|市场主体登记管理条例 第十六条
M 经营场所租赁合同|合同协议|申请人|申请人提交|市场主体登记管理条例 第十六条
I 有限责任公司变更登记|行政许可|市场主体登记管理条例 第二十四条|3|当日|全程|||营业执照|||
M 公司变更登记申请书|申请表
M 变更决议或者决定|其他|申请人|申请人提交|市场主体登记管理条例 第二十四条
M 修改后的公司章程|其他|申请人|申请人提交|市场主体登记管理条例 第二十四条
M 营业执照|证照|本部门|内部共享|市场主体登记管理条例 第二十四条|market
I 有限责任公司注销登记|行政许可|市场主体登记管理条例 第三十一条;市场主体登记管理条例 第三十二条|3|当日|全程|||营业执照|||
M 公司注销登记申请书|申请表
M 清算报告|报告|申请人|申请人提交|市场主体登记管理条例 第三十二条
M 清税信息|其他|其他部门|内部共享|市场主体登记管理条例 第三十二条|tax
M 营业执照|证照|本部门|内部共享|市场主体登记管理条例 第三十二条|market
I 个体工商户设立登记|行政许可|市场主体登记管理条例 第十六条;市场主体登记管理条例 第十九条|3|即办|全程|||营业执照|||
M 个体工商户登记（备案）申请书|申请表
M 经营者身份证明|证件|申请人|申请人提交|市场主体登记管理条例 第十六条
M 经营场所租赁合同|合同协议|申请人|申请人提交|市场主体登记管理条例 第十六条
I 个体工商户变更登记|行政许可|市场主体登记管理条例 第二十四条|3|即办|全程|||营业执照|||
M 个体工商户变更登记申请书|申请表
M 营业执照|证照|本部门|内部共享|市场主体登记管理条例 第二十四条|market
M 经营者身份证明|证件|申请人|申请人提交|市场主体登记管理条例 第二十四条
I 个体工商户注销登记|行政许可|市场主体登记管理条例 第三十一条|3|即办|全程|||营业执照|||
M 个体工商户注销登记申请书|申请表
M 营业执照|证照|本部门|内部共享|市场主体登记管理条例 第三十一条|market
M 经营者身份证明|证件|申请人|网络核验|市场主体登记管理条例 第三十一条
I 合伙企业设立登记|行政许可|市场主体登记管理条例 第十六条;市场主体登记管理条例 第十九条|3|当日|全程|||营业执照|||
M 合伙企业登记（备案）申请书|申请表
M 全体合伙人签署的合伙协议|合同协议|申请人|申请人提交|市场主体登记管理条例 第十六条
M 全体合伙人的身份证件|证件|申请人|申请人提交|市场主体登记管理条例 第十六条
M 执行事务合伙人的委托书|其他|申请人|申请人提交|市场主体登记管理条例 第十六条
M 主要经营场所租赁合同|合同协议|申请人|申请人提交|市场主体登记管理条例 第十六条
I 个人独资企业设立登记|行政许可|市场主体登记管理条例 第十六条;市场主体登记管理条例 第十九条|3|即办|全程|||营业执照|||
M 个人独资企业登记（备案）申请书|申请表
M 投资人身份证|证件|申请人|申请人提交|市场主体登记管理条例 第十六条
M 企业住所租赁合同|合同协议|申请人|申请人提交|市场主体登记管理条例 第十六条
I 农民专业合作社设立登记|行政许可|市场主体登记管理条例 第十六条;市场主体登记管理条例 第十九条|3|当日|全程|||营业执照|||
M 农民专业合作社登记（备案）申请书|申请表
M 农民专业合作社章程|其他|申请人|申请人提交|市场主体登记管理条例 第十六条
M 全体设立人名单|其他|申请人|申请人提交|市场主体登记管理条例 第十六条
M 法定代表人身份证|证件|申请人|申请人提交|市场主体登记管理条例 第十六条
M 其他出资人的身份证件|证件|申请人|申请人提交|市场主体登记管理条例 第十六条
M 成员出资清单|其他|申请人|申请人提交|市场主体登记管理条例 第十六条
M 住所租赁合同|合同协议|申请人|申请人提交|市场主体登记管理条例 第十六条
I 分公司设立登记|行政许可|市场主体登记管理条例 第十六条|3|当日|全程|||营业执照|||
M 分公司登记申请书|申请表
M 公司关于设立分公司的决议|其他|申请人|申请人提交|市场主体登记管理条例 第十六条
M 分公司负责人身份证|证件|申请人|申请人提交|市场主体登记管理条例 第十六条
M 营业场所租赁合同|合同协议|申请人|申请人提交|市场主体登记管理条例 第十六条
M 营业执照|证照|本部门|内部共享|市场主体登记管理条例 第十六条|market
I 食品经营许可（新办）|行政许可|食品安全法 第三十五条;食品经营许可和备案管理办法 第十二条|10|限时|预审||food|食品经营许可证|现场勘查||食品经营许可管理办法 第十条
M 食品经营许可申请书|申请表
M 营业执照|证照|本部门|内部共享|食品经营许可和备案管理办法 第十二条|market
M 法定代表人身份证|证件|申请人|申请人提交|食品经营许可和备案管理办法 第十二条
M 食品经营场所平面布局图|图纸|申请人|申请人提交|食品经营许可和备案管理办法 第十二条
M 主要设备设施清单|其他|申请人|申请人提交|食品经营许可和备案管理办法 第十二条
M 食品安全规章制度目录清单|其他|申请人|申请人提交|食品经营许可和备案管理办法 第十二条
M 从业人员健康证明|证明|其他|申请人提交|食品安全法 第四十五条
M 申请人信用承诺书|申请表
I 食品经营许可|行政许可|食品安全法 第三十五条;食品经营许可和备案管理办法 第二十六条|10|限时|全程|||食品经营许可证|||食品经营许可管理办法 第二十七条
V 变更/延续/注销
M 食品经营许可申请书|申请表
M 食品经营许可证|证照|本部门|内部共享|食品安全法 第三十五条|market
M 营业执照|证照|本部门|内部共享|食品安全法 第三十五条|market
M 变更后的食品经营场所平面布局图|图纸|申请人|申请人提交|食品经营许可和备案管理办法 第二十六条
I 仅销售预包装食品备案|行政备案|食品安全法 第三十五条;食品经营许可和备案管理办法 第四十四条|1|即办|全程||prepack||||食品经营许可管理办法 第二十条
M 仅销售预包装食品备案信息采集表|申请表
M 营业执照|证照|本部门|内部共享|食品经营许可和备案管理办法 第四十四条|market
M 经营者身份证明|证件|申请人|申请人提交|食品经营许可和备案管理办法 第四十四条
I 食品生产许可（新办）|行政许可|食品安全法 第三十五条|10|限时|预审|||食品生产许可证|现场勘查||
M 食品生产许可申请书|申请表
M 营业执照|证照|本部门|内部共享|食品安全法 第三十五条|market
M 食品生产设备布局图和食品生产工艺流程图|图纸|申请人|申请人提交|食品安全法 第三十五条
M 食品生产主要设备、设施清单|其他|申请人|申请人提交|食品安全法 第三十五条
M 相关人员的居民身份证|证件|申请人|申请人提交|食品安全法 第三十五条
M 有关部门出具的检测报告|报告|其他|申请人提交|食品安全法 第三十五条
I 企业年度报告公示|公共服务|市场主体登记管理条例 第三十五条|1|即办|全程||||||
M 企业年度报告填报表|申请表
M 企业年度报告|报告|申请人|申请人提交|市场主体登记管理条例 第三十五条
M 营业执照|证照|本部门|内部共享|市场主体登记管理条例 第三十五条|market

D nr|自然资源局|自然资源厅|自然资源部|8||房屋所有权证;国有土地使用证;土地使用权证;房屋他项权证|土地登记办法 第九条;不动产登记暂行条例实施细则 第十一条
I 不动产转移登记|行政确认|不动产登记暂行条例 第十四条;不动产登记暂行条例 第十六条|30|限时|预审||||||
V 存量房买卖/赠与/继承、受遗赠/夫妻间财产约定
M 不动产登记申请书|申请表
M 申请人身份证明|证件|申请人|申请人提交|不动产登记暂行条例 第十六条
M 不动产权证书|证照|本部门|内部共享|不动产登记暂行条例 第十六条|nr
M 存量房买卖合同|合同协议|其他部门|内部共享|不动产登记暂行条例 第十六条|housing
M 完税证明|其他|其他部门|内部共享|不动产登记暂行条例 第十六条|tax
I 不动产首次登记|行政确认|不动产登记暂行条例 第十四条;不动产登记暂行条例 第十六条|30|限时|预审|||||城市房屋拆迁管理条例 第二十三条
V 商品房/自建房/拆迁安置房
M 不动产登记申请书|申请表
M 申请人身份证明|证件|申请人|申请人提交|不动产登记暂行条例 第十六条
M 建设工程规划许可证|证照|本部门|内部共享|不动产登记暂行条例 第十六条|nr
M 房屋竣工验收资料|其他|申请人|申请人提交|不动产登记暂行条例 第十六条
M 不动产权籍调查成果|报告|中介机构|申请人提交|不动产登记暂行条例 第十六条
I 不动产抵押登记|行政确认|不动产登记暂行条例 第十四条;不动产登记暂行条例 第十六条|30|当日|全程||||||
V 一般抵押权首次登记/最高额抵押权首次登记/抵押权变更登记
M 不动产登记申请书|申请表
M 不动产权证书|证照|本部门|内部共享|不动产登记暂行条例 第十六条|nr
M 主债权合同|合同协议|其他|外部共享|不动产登记暂行条例 第十六条|银行业金融机构
M 抵押合同|合同协议|其他|外部共享|不动产登记暂行条例 第十六条|银行业金融机构
M 申请人身份证明|证件|申请人|网络核验|不动产登记暂行条例 第十六条
I 不动产变更登记|行政确认|不动产登记暂行条例 第十四条;不动产登记暂行条例 第十六条|30|当日|预审||||||
V 权利人姓名、名称变更/不动产坐落、界址变更/土地用途变更
M 不动产登记申请书|申请表
M 申请人身份证明|证件|申请人|申请人提交|不动产登记暂行条例 第十六条
M 不动产权证书|证照|本部门|内部共享|不动产登记暂行条例 第十六条|nr
M 户籍姓名变更记录|其他|其他部门|内部共享|不动产登记暂行条例 第十六条|police
M 企业名称变更登记信息|其他|其他部门|内部共享|不动产登记暂行条例 第十六条|market
I 不动产注销登记|行政确认|不动产登记暂行条例 第十四条|30|即办|全程||||||
V 抵押权注销/地役权注销
M 不动产登记申请书|申请表
M 不动产登记证明|证照|本部门|内部共享|不动产登记暂行条例 第十四条|nr
M 抵押权注销同意书|其他|其他|外部共享|不动产登记暂行条例 第十四条|银行业金融机构
I 建设工程规划许可证核发|行政许可|城乡规划法 第四十条|20|限时|预审|||建设工程规划许可证|专家评审||
M 建设工程规划许可申请表|申请表
M 国有建设用地使用权出让合同|合同协议|本部门|内部共享|城乡规划法 第三十八条|nr
M 建设工程设计方案|图纸|中介机构|申请人提交|城乡规划法 第四十条
M 建设项目用地预审与选址意见书|证照|本部门|内部共享|城乡规划法 第三十六条|nr
M 建设工程规划许可申请人身份证明|证件|申请人|申请人提交|城乡规划法 第四十条
I 建设用地规划许可证核发|行政许可|城乡规划法 第三十七条;城乡规划法 第三十八条|20|限时|预审|||建设用地规划许可证|||
M 建设用地规划许可申请表|申请表
M 建设项目批准、核准或者备案文件|其他|其他部门|内部共享|城乡规划法 第三十七条|发展和改革部门
M 国有建设用地使用权出让合同|合同协议|本部门|内部共享|城乡规划法 第三十八条|nr
M 建设项目用地预审与选址意见书|证照|本部门|内部共享|城乡规划法 第三十六条|nr
I 乡村建设规划许可证核发|行政许可|城乡规划法 第四十一条|20|限时|预审|||乡村建设规划许可证|现场勘查||
M 乡村建设规划许可申请表|申请表
M 村民委员会书面意见|其他|申请人|申请人提交|城乡规划法 第四十一条
M 建设工程设计图纸|图纸|申请人|申请人提交|城乡规划法 第四十一条
M 申请人身份证明|证件|申请人|申请人提交|城乡规划法 第四十一条

D eco|生态环境局|生态环境厅|生态环境部|5||组织机构代码证;税务登记证;统计登记证|建设项目环境保护管理条例 第九条;环境影响评价公众参与办法 第三条
I 建设项目环境影响评价文件审批|行政许可|环境影响评价法 第二十二条|60|限时|预审||||专家评审||
V 报告书/报告表
M 建设项目环境影响评价文件审批申请书|申请表
M 环境影响评价文件|报告|中介机构|申请人提交|环境影响评价法 第二十二条
M 公众参与说明|报告|申请人|申请人提交|环境影响评价法 第二十一条
M 营业执照|证照|其他部门|内部共享|环境影响评价法 第二十二条|market
I 建设项目环境影响登记表备案|行政备案|环境影响评价法 第十六条|1|即办|全程||||||
M 建设项目环境影响登记表|申请表
M 营业执照|证照|其他部门|内部共享|环境影响评价法 第十六条|market
M 建设项目基本情况说明|其他|申请人|申请人提交|环境影响评价法 第十六条
I 建设项目环境影响评价文件重新审核|行政许可|环境影响评价法 第二十四条|10|限时|预审||||||
M 重新审核申请书|申请表
M 原环境影响评价文件审批意见|其他|本部门|内部共享|环境影响评价法 第二十四条|eco
M 建设项目开工情况说明|其他|申请人|申请人提交|环境影响评价法 第二十四条
M 营业执照|证照|其他部门|内部共享|环境影响评价法 第二十四条|market
I 排污许可证核发（水污染物）|行政许可|水污染防治法 第二十一条|20|限时|全程|||排污许可证|||
M 排污许可证申请表|申请表
M 营业执照|证照|其他部门|内部共享|水污染防治法 第二十一条|market
M 自行监测方案|其他|申请人|申请人提交|水污染防治法 第二十一条
M 排污口和监测孔规范化设置情况说明|其他|申请人|申请人提交|水污染防治法 第二十二条

D health|卫生健康委员会|卫生健康委员会|国家卫生健康委员会|5||组织机构代码证;税务登记证|公共场所卫生管理条例实施细则 第二十二条
I 公共场所卫生许可（新办）|行政许可|公共场所卫生管理条例 第八条|20|限时|预审||hotel_health|卫生许可证|现场勘查||
M 公共场所卫生许可申请表|申请表
M 营业执照|证照|其他部门|内部共享|公共场所卫生管理条例 第八条|market
M 法定代表人身份证|证件|申请人|申请人提交|公共场所卫生管理条例 第八条
M 公共场所地址方位示意图、平面图和卫生设施平面布局图|图纸|申请人|申请人提交|公共场所卫生管理条例 第八条
M 公共场所卫生检测报告|报告|中介机构|申请人提交|公共场所卫生管理条例 第八条
M 卫生管理制度|其他|申请人|申请人提交|公共场所卫生管理条例 第八条
M 从业人员健康证明|证明|其他|申请人提交|公共场所卫生管理条例 第七条
M 申请人信用承诺书|申请表
I 公共场所卫生许可|行政许可|公共场所卫生管理条例 第八条|20|即办|全程|||卫生许可证|||
V 延续/变更/注销
M 公共场所卫生许可申请表|申请表
M 卫生许可证|证照|本部门|内部共享|公共场所卫生管理条例 第八条|health
M 营业执照|证照|其他部门|内部共享|公共场所卫生管理条例 第八条|market

D tobacco|烟草专卖局|烟草专卖局|国家烟草专卖局|4||组织机构代码证;税务登记证|烟草专卖许可证管理办法 第十五条
I 烟草专卖零售许可证核发|行政许可|烟草专卖法 第十六条;烟草专卖法实施条例 第十四条|20|限时|预审||tobacco|烟草专卖零售许可证|现场勘查||
M 烟草专卖零售许可证申请表|申请表
M 营业执照|证照|其他部门|内部共享|烟草专卖法实施条例 第十四条|market
M 法定代表人身份证|证件|申请人|申请人提交|烟草专卖法实施条例 第十四条
M 经营场所租赁合同|合同协议|申请人|申请人提交|烟草专卖法实施条例 第十四条
M 经营场所位置示意图|图纸|申请人|申请人提交|烟草专卖法实施条例 第十四条
M 申请人信用承诺书|申请表
I 烟草专卖零售许可证|行政许可|烟草专卖法 第十六条;烟草专卖法实施条例 第十四条|20|即办|全程|||烟草专卖零售许可证|||
V 延续/变更/停业/恢复营业/歇业
M 烟草专卖零售许可证申请表|申请表
M 烟草专卖零售许可证|证照|本部门|内部共享|烟草专卖法实施条例 第十四条|tobacco
M 营业执照|证照|其他部门|内部共享|烟草专卖法实施条例 第十四条|market
M 经营者身份证明|证件|申请人|网络核验|烟草专卖法实施条例 第十四条

D water|水务局|水利厅|水利部|4||组织机构代码证;税务登记证|取水许可和水资源费征收管理条例 第十一条;河道管理条例 第十一条
I 取水许可|行政许可|水法 第七条;水法 第四十八条|45|限时|预审|||取水许可证|专家评审||
V 新办/延续/变更
M 取水申请书|申请表
M 建设项目水资源论证报告|报告|中介机构|申请人提交|水法 第四十八条
M 营业执照|证照|其他部门|内部共享|水法 第四十八条|market
M 取水工程或者设施情况说明|其他|申请人|申请人提交|水法 第四十八条
I 河道管理范围内建设项目工程建设方案审批|行政许可|水法 第三十八条|20|限时|预审||||现场勘查||
M 河道管理范围内建设项目申请书|申请表
M 建设项目防洪评价报告|报告|中介机构|申请人提交|水法 第三十八条
M 工程建设方案和位置界限图|图纸|申请人|申请人提交|水法 第三十八条
M 营业执照|证照|其他部门|内部共享|水法 第三十八条|market
I 入河排污口设置审批|行政许可|水法 第三十四条;水污染防治法 第二十二条|20|限时|预审||||专家评审||
M 入河排污口设置申请书|申请表
M 入河排污口设置论证报告|报告|中介机构|申请人提交|水法 第三十四条
M 营业执照|证照|其他部门|内部共享|水污染防治法 第二十二条|market
M 建设项目环境影响评价批复文件|其他|其他部门|内部共享|水法 第三十四条|eco

D civil|民政局|民政厅|民政部|4|从业人员健康证明@养老机构管理办法 第十条|组织机构代码证;税务登记证;社会保险登记证|民办非企业单位登记管理暂行条例 第九条
I 养老机构备案|行政备案|养老机构管理办法 第九条|5|即办|全程||||||
M 养老机构备案书|申请表
M 营业执照|证照|其他部门|内部共享|养老机构管理办法 第九条|market|非营利性养老机构为事业单位法人证书或者民办非企业单位登记证书
M 养老服务场所租赁合同|合同协议|申请人|申请人提交|养老机构管理办法 第九条
M 养老服务设施平面图|图纸|申请人|申请人提交|养老机构管理办法 第九条
M 消防安全承诺书|其他|申请人|告知承诺|||申请人书面承诺符合消防安全要求
I 养老机构备案变更|行政备案|养老机构管理办法 第十条|5|即办|全程||||||
M 养老机构备案变更书|申请表
M 营业执照|证照|其他部门|内部共享|养老机构管理办法 第十条|market
M 变更事项说明|其他|申请人|申请人提交|养老机构管理办法 第十条
I 养老机构运营补贴发放|行政给付|养老机构管理办法 第六条|30|限时|预审||||现场勘查||
M 养老机构运营补贴申请表|申请表
M 收住老年人花名册|其他|申请人|申请人提交|养老机构管理办法 第六条
M 养老机构备案回执|证照|本部门|内部共享|养老机构管理办法 第九条|civil
M 银行账户信息|其他|申请人|申请人提交|养老机构管理办法 第六条

D edu|教育局|教育厅|教育部|3|身体条件证明@机动车驾驶证申领和使用规定 第十九条|组织机构代码证;税务登记证|校车安全管理条例实施办法 第三条
I 校车使用许可|行政许可|校车安全管理条例 第十四条;校车安全管理条例 第十五条|20|限时|预审|||校车标牌|现场勘查||
V 新办/延续/变更
M 校车使用许可申请表|申请表
M 机动车行驶证|证照|其他部门|内部共享|校车安全管理条例 第十四条|police
M 校车驾驶人的机动车驾驶证|证照|其他部门|内部共享|校车安全管理条例 第十四条|police
M 机动车检验合格证明|报告|中介机构|网络核验|校车安全管理条例 第十四条|机动车检验检测机构
M 校车运行方案|其他|申请人|申请人提交|校车安全管理条例 第十四条
M 校车安全管理制度|其他|申请人|申请人提交|校车安全管理条例 第十四条
M 机动车承运人责任保险单|合同协议|其他|申请人提交|校车安全管理条例 第十四条

D housing|住房和城乡建设局|住房和城乡建设厅|住房和城乡建设部|5||房屋所有权证;国有土地使用权证;房屋所有权证书|城市房地产管理法 第三十八条;城市房屋权属登记管理办法 第十条
I 国有土地上房屋征收补偿|行政给付|国有土地上房屋征收与补偿条例 第十七条;国有土地上房屋征收与补偿条例 第二十五条|30|限时|不可||||||城市房屋拆迁管理条例 第十五条
V 货币补偿/产权调换
M 房屋征收补偿申请表|申请表
M 被征收人身份证明|证件|申请人|申请人提交|国有土地上房屋征收与补偿条例 第二十五条
M 不动产权证书|证照|其他部门|内部共享|国有土地上房屋征收与补偿条例 第十五条|nr
M 房屋征收补偿协议|合同协议|申请人|申请人提交|国有土地上房屋征收与补偿条例 第二十五条
M 房屋价值评估报告|报告|中介机构|申请人提交|国有土地上房屋征收与补偿条例 第十九条
I 房屋征收补偿决定|行政裁决|国有土地上房屋征收与补偿条例 第二十六条|60|限时|不可||||听证||
M 补偿决定申请书|申请表
M 征收补偿方案|其他|本部门|内部共享|国有土地上房屋征收与补偿条例 第二十六条|housing
M 房屋价值评估报告|报告|中介机构|申请人提交|国有土地上房屋征收与补偿条例 第十九条
M 被征收人身份证明|证件|申请人|申请人提交|国有土地上房屋征收与补偿条例 第二十六条
I 房地产价格评估机构选定|公共服务|国有土地上房屋征收与补偿条例 第二十条|15|限时|预审||||公示||
M 评估机构选定申请表|申请表
M 被征收人投票结果|其他|申请人|申请人提交|国有土地上房屋征收与补偿条例 第二十条
M 房地产价格评估机构资质证书|证照|其他|网络核验|国有土地上房屋征收与补偿条例 第二十条|住房和城乡建设主管部门
"#;
