#!/usr/bin/env python3
"""Benchmark peer of `qingdan check` (issue 10, target (a)).

A straightforward Python 3 + PyYAML (libyaml's CLoader) script that applies the four core rules
to the same list files and prints a count per rule:

  QD101  a material (not an application form, not 告知承诺/免提交) has no basis
  QD102  a material's name or note contains catch-all wording (a small literal list)
  QD103  the applicant must submit a material the government can obtain itself (a small catalog,
         or source 其他部门)
  QD201  promised_days > legal_days

It is what a reform office would write in an afternoon: no spans, no citations, no policy
language. It is the yardstick qingdan must beat by 30x on the 20,000-item corpus.

Usage: python3 benches/peer.py PATH... (files or directories searched for *.yaml / *.yml)
"""

import os
import sys

import yaml

try:
    from yaml import CLoader as Loader
except ImportError:  # pragma: no cover - the benchmark needs libyaml
    sys.exit("peer.py: PyYAML was built without libyaml (yaml.CLoader is missing)")

# Chinese key aliases (SPEC §2.1) -> English keys.
ALIASES = {
    "清单": "list", "事项": "items", "事项编码": "code", "事项名称": "name", "材料名称": "name",
    "事项类型": "type", "部门": "department", "实施主体": "department", "设定依据": "basis",
    "依据": "basis", "办件类型": "handling", "四办类别": "promise", "法定时限": "legal_days",
    "承诺时限": "promised_days", "到现场次数": "visits", "网办深度": "online",
    "申请材料": "materials", "材料类型": "kind", "材料来源": "source", "获取方式": "acquisition",
    "获取部门": "provider", "备注": "note", "一件事": "chains",
}

CATCH_ALL = [
    "其他相关材料", "其它相关材料", "其他材料", "其它材料", "相关材料", "有关材料", "有关证明",
    "等材料", "相关证明", "其他需要", "必要时", "视情况", "根据需要", "如有需要", "补充材料",
]

SHARED = {
    "居民户口簿", "户口簿", "户口本", "营业执照", "企业营业执照", "营业执照副本", "不动产权证书",
    "结婚证", "离婚证", "机动车驾驶证", "驾驶证", "机动车行驶证", "行驶证", "道路运输证",
    "食品经营许可证", "社会保障卡", "社保卡", "出生医学证明", "卫生许可证", "建设工程规划许可证",
    "建设用地规划许可证", "道路运输从业人员从业资格证", "残疾人证", "学历证书", "纳税证明",
    "完税证明", "社会保险缴费证明", "道路运输经营许可证", "烟草专卖零售许可证", "取水许可证",
    "排污许可证", "居住证",
}

SUFFIXES = ("原件及复印件", "复印件", "原件", "扫描件", "电子件")


def english(mapping):
    return {ALIASES.get(k, k): v for k, v in mapping.items()} if isinstance(mapping, dict) else {}


def base_name(name):
    name = str(name or "").replace(" ", "")
    changed = True
    while changed:
        changed = False
        for s in SUFFIXES:
            if name.endswith(s) and len(name) > len(s):
                name = name[: -len(s)]
                changed = True
    return name


def files_under(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for root, dirs, names in os.walk(p):
            dirs.sort()
            for n in sorted(names):
                if n.endswith((".yaml", ".yml")) and n != "qingdan.yaml":
                    yield os.path.join(root, n)


def as_int(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def main(argv):
    if not argv:
        sys.exit(__doc__)
    counts = {"QD101": 0, "QD102": 0, "QD103": 0, "QD201": 0}
    n_files = n_items = n_materials = 0
    for path in files_under(argv):
        with open(path, encoding="utf-8") as f:
            doc = yaml.load(f, Loader=Loader)
        doc = english(doc)
        n_files += 1
        for raw in doc.get("items") or []:
            item = english(raw)
            n_items += 1
            legal, promised = as_int(item.get("legal_days")), as_int(item.get("promised_days"))
            if legal is not None and promised is not None and promised > legal:
                counts["QD201"] += 1
            for rawm in item.get("materials") or []:
                m = english(rawm)
                n_materials += 1
                name = str(m.get("name") or "")
                kind, acq, source = m.get("kind"), m.get("acquisition"), m.get("source")
                if kind != "申请表" and acq not in ("告知承诺", "免提交") and not m.get("basis"):
                    counts["QD101"] += 1
                note = str(m.get("note") or "")
                if any(p in name or p in note for p in CATCH_ALL):
                    counts["QD102"] += 1
                if (acq in (None, "申请人提交") and kind != "申请表" and source != "本部门"
                        and (base_name(name) in SHARED or source == "其他部门")):
                    counts["QD103"] += 1
    print(f"files {n_files} items {n_items} materials {n_materials}")
    for rule, n in counts.items():
        print(f"{rule} {n}")
    return 1 if any(counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
