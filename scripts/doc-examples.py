#!/usr/bin/env python3
"""Lists the public items of the published crates whose rustdoc has no code example (issue 14).

The nightly lint `rustdoc::missing_doc_code_examples` does this on a nightly toolchain; the
workspace builds on stable, so this script reads the sources instead (python3, no dependencies,
about a second).

What counts as a public item: `pub fn`, `pub struct`, `pub enum`, `pub trait`, `pub type`,
`pub const`, `pub static` at module level, and `pub fn` / `pub const` inside inherent `impl`
blocks (methods and associated constants). An item is checked when users can name it: it is
`pub` in a module reached from the crate root through `pub mod`s, or it is re-exported by a
`pub use` that users can reach (followed through chains and globs). `pub(crate)` and narrower,
`#[doc(hidden)]` items and modules, and `#[cfg(test)]` modules are skipped.

What counts as an example: a fenced code block that rustdoc compiles — a bare fence or one
tagged `rust`, `no_run`, `should_panic` or `editionNNNN` — in the item's own `///` comment.
`ignore`, `compile_fail` and `text` blocks do not count. For a method or an associated
constant, an example on its type counts when that example names it (`.name(`, `::name`).

Not checked (say so rather than pretend): `pub mod` docs, trait methods (the trait's own
example is what is required), enum variants and struct fields, items made by macros, and
public types reachable only through another item's signature.

Usage:  python3 scripts/doc-examples.py [--crate NAME]... [--quiet] [--max-gaps N]
Prints one line per item lacking an example (`crate path::to::item (kind) file:line`; `--quiet`
prints only the summaries) and a summary per crate; exits 1 when there are more than N gaps
(default 0). CI passes the number still open, so the count can only go down.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The published library crates (crate name, directory). The CLI, the test helper crate and the
# peer benchmark are not libraries users depend on.
CRATES = [
    ("envelope", "."),
    ("envelope-keyrings", "keyrings"),
    ("envelope-keystore", "crates/keystore"),
    ("envelope-s3", "crates/s3"),
    ("envelope-dbe", "crates/dbe"),
    ("envelope-gcm-stream", "crates/gcm-stream"),
    ("envelope-partial-file", "crates/partial-file"),
    ("envelope-kms-local", "crates/kms-local"),
    ("envelope-vectors", "crates/vectors"),
]

ITEM_KINDS = ("fn", "struct", "enum", "trait", "type", "const", "static")
COMPILED_FENCE_TAGS = {"", "rust", "no_run", "should_panic"}


# --- lexing ------------------------------------------------------------------------------------


def lex(text):
    """Returns (code_lines, doc_lines): the source with comments and the contents of string and
    char literals blanked (so braces and keywords in them are not seen), and for each line the
    text of its outer doc comment (`///`) or None."""
    out = []
    docs = {}
    i, n = 0, len(text)
    line = 0
    while i < n:
        c = text[i]
        if c == "\n":
            out.append(c)
            line += 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            comment = text[i:end]
            if comment.startswith("///") and not comment.startswith("////"):
                docs[line] = comment[3:]
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            chunk = text[i:j]
            out.append(re.sub(r"[^\n]", " ", chunk))
            line += chunk.count("\n")
            i = j
        elif c in "rb" and re.match(r'(br|r)#*"', text[i:i + 40]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'(br|r)(#*)"', text[i:])
            close = '"' + m.group(2)
            start = i + len(m.group(0))
            end = text.find(close, start)
            end = n if end < 0 else end + len(close)
            chunk = text[i:end]
            out.append('""' + re.sub(r"[^\n]", " ", chunk[2:]))
            line += chunk.count("\n")
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            chunk = text[i:j + 1]
            out.append('"' + re.sub(r"[^\n]", " ", chunk[1:-1]) + '"')
            line += chunk.count("\n")
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])'", text[i:i + 16])
            if m:
                out.append("'" + " " * (len(m.group(0)) - 2) + "'")
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    code = "".join(out).split("\n")
    return code, [docs.get(k) for k in range(len(code))]


# --- module tree -------------------------------------------------------------------------------


class Module:
    def __init__(self, path, file):
        self.path = path  # tuple of names from the crate root
        self.file = file
        self.children = {}  # name -> (visible, hidden, Module)
        self.items = {}  # name -> Item (module-level items)
        self.uses = []  # (alias, target path segments, glob)
        self.impls = []  # (type name, [Item])


class Item:
    def __init__(self, kind, name, docs, attrs, file, line, public):
        self.kind, self.name, self.docs, self.attrs = kind, name, docs, attrs
        self.file, self.line, self.public = file, line, public
        self.hidden = "doc(hidden)" in attrs.replace(" ", "")


ITEM_RE = re.compile(
    r"^\s*(?P<vis>pub(\s*\([^)]*\))?\s+)?(default\s+)?((const|async|unsafe|extern(\s+\"\w*\")?)\s+)*"
    r"(?P<kind>fn|struct|enum|trait|type|const|static|mod|use|impl|union)\b\s*(?P<rest>.*)$"
)
IMPL_RE = re.compile(r"^\s*(unsafe\s+)?impl\b")


def strip_generics(s):
    """Drops balanced <...> groups (ignoring `->`)."""
    s = s.replace("->", "  ")
    out, depth = [], 0
    for ch in s:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def impl_self_type(header):
    """The type name of an inherent impl header, or None for a trait impl."""
    h = header.strip()
    h = re.sub(r"^(unsafe\s+)?impl\s*", "", h)
    h = strip_generics(h)
    h = h.split(" where ")[0].split("{")[0]
    if re.search(r"\bfor\b", h):
        return None
    m = re.findall(r"[A-Za-z_]\w*", h.replace("dyn ", ""))
    return m[-1] if m else None


def parse_use_tree(s, prefix, out):
    """Expands a use tree (`a::{b, c::{d as e}, f::*}`) into (alias, segments, glob) triples."""
    s = s.strip()
    if not s:
        return
    # split at top-level commas
    if s.startswith("{") and s.endswith("}"):
        depth, start = 0, 1
        body = s[1:-1]
        parts, start = [], 0
        for k, ch in enumerate(body):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(body[start:k])
                start = k + 1
        parts.append(body[start:])
        for p in parts:
            parse_use_tree(p, prefix, out)
        return
    m = re.match(r"^([\w]+)\s*::\s*(.*)$", s, re.S)
    if m:
        parse_use_tree(m.group(2), prefix + [m.group(1)], out)
        return
    if s == "*":
        out.append((None, prefix, True))
        return
    m = re.match(r"^(\w+)(\s+as\s+(\w+))?$", s)
    if m:
        name = m.group(1)
        alias = m.group(3) or name
        if name == "self":
            out.append((alias if m.group(3) else prefix[-1], prefix, False))
        else:
            out.append((alias, prefix + [name], False))


def module_file(parent_file, parent_is_dir_owner, name):
    base = os.path.dirname(parent_file)
    if not parent_is_dir_owner:
        base = os.path.join(base, os.path.splitext(os.path.basename(parent_file))[0])
    for cand in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
        if os.path.exists(cand):
            return cand
    return None


def parse_file(file, module, modules):
    with open(file, encoding="utf-8") as f:
        text = f.read()
    code, docs = lex(text)
    owner = os.path.basename(file) in ("lib.rs", "mod.rs", "main.rs")
    # scope stack: (kind, body depth, module or impl item list)
    scopes = [("mod", 0, module, file, owner)]
    depth = 0
    pending_docs, pending_attrs = [], []
    attr_open = 0
    header = None  # (kind, name/type, scope depth, visible, hidden, attrs) waiting for its `{`
    header_text = ""
    for ln, src in enumerate(code):
        stripped = src.strip()
        kind, _, scope_obj, scope_file, scope_owner = scopes[-1]
        at_scope = depth == scopes[-1][1] and header is None
        if at_scope and attr_open == 0:
            if docs[ln] is not None and not stripped:
                pending_docs.append(docs[ln])
                continue
            if not stripped:
                continue
        if at_scope and (attr_open or stripped.startswith("#[")):
            pending_attrs.append(stripped)
            attr_open += stripped.count("[") - stripped.count("]")
            # fall through to count braces (none expected in attributes)
            continue
        if at_scope:
            attrs = " ".join(pending_attrs)
            doc_text = "\n".join(pending_docs)
            pending_docs, pending_attrs = [], []
            m = ITEM_RE.match(src)
            if m:
                vis = (m.group("vis") or "").replace(" ", "")
                public = vis == "pub"
                ikind = m.group("kind")
                rest = m.group("rest")
                if kind == "mod":
                    if ikind == "mod":
                        name = re.match(r"(\w+)", rest).group(1)
                        hidden = "doc(hidden)" in attrs.replace(" ", "")
                        cfg_test = re.search(r"cfg\(\s*(test|doctest)\s*\)", attrs) is not None
                        child = Module(scope_obj.path + (name,), file)
                        modules.append(child)
                        scope_obj.children[name] = (public, hidden or cfg_test, child)
                        if "{" in rest:
                            header = ("mod", child, depth, file, False)
                        elif not cfg_test:
                            sub = module_file(scope_file, scope_owner, name)
                            if sub:
                                child.file = sub
                                parse_file(sub, child, modules)
                    elif ikind == "use":
                        if public:
                            stmt = rest
                            k = ln
                            while ";" not in stmt and k + 1 < len(code):
                                k += 1
                                stmt += " " + code[k].strip()
                            stmt = stmt.split(";")[0]
                            if "doc(hidden)" not in attrs.replace(" ", ""):
                                trees = []
                                parse_use_tree(stmt, [], trees)
                                scope_obj.uses.extend(trees)
                    elif ikind == "impl":
                        header = ("impl", None, depth, file, False)
                        header_text = src
                    elif ikind in ITEM_KINDS or ikind == "union":
                        nm = re.match(r"(\w+)", rest)
                        if nm and nm.group(1) != "_":
                            item = Item(ikind, nm.group(1), doc_text, attrs, file, ln + 1, public)
                            scope_obj.items.setdefault(nm.group(1), item)
                        if ikind == "trait":
                            header = ("other", None, depth, file, False)
                elif kind == "impl":
                    if ikind in ("fn", "const") and public:
                        nm = re.match(r"(\w+)", rest)
                        if nm:
                            scope_obj[1].append(Item(ikind, nm.group(1), doc_text, attrs, file, ln + 1, True))
            elif IMPL_RE.match(src) and kind == "mod":
                header = ("impl", None, depth, file, False)
                header_text = src
        elif header is not None and header[0] == "impl" and "{" not in header_text:
            header_text += " " + src
        # braces
        for ch in src:
            if ch == "{":
                if header is not None and depth == header[2]:
                    if header[0] == "mod":
                        scopes.append(("mod", depth + 1, header[1], scope_file, False))
                        # an inline module's children resolve under a directory named after it
                        scopes[-1] = ("mod", depth + 1, header[1],
                                      os.path.join(os.path.dirname(scope_file), *header[1].path[-1:]) + ".rs", False)
                    elif header[0] == "impl":
                        ty = impl_self_type(header_text.split("{")[0])
                        items = []
                        if ty:
                            scopes[-1][2].impls.append((ty, items))
                        scopes.append(("impl", depth + 1, (ty, items), scope_file, False))
                    else:
                        scopes.append(("other", depth + 1, None, scope_file, False))
                    header = None
                    header_text = ""
                depth += 1
            elif ch == "}":
                depth -= 1
                if len(scopes) > 1 and depth < scopes[-1][1]:
                    scopes.pop()
            elif ch == ";" and header is not None and depth == header[2] and header[0] != "mod":
                header = None
                header_text = ""


# --- reachability ------------------------------------------------------------------------------


def resolve_module(root, current, segs):
    """Follows path segments from `current`; returns (module, remaining segments) or None for
    paths into other crates."""
    mod = current
    segs = list(segs)
    if segs and segs[0] == "crate":
        mod, segs = root, segs[1:]
    elif segs and segs[0] in ("self", "super"):
        while segs and segs[0] in ("self", "super"):
            if segs[0] == "super":
                mod = find_module(root, mod.path[:-1])
            segs = segs[1:]
    elif segs and segs[0] not in mod.children:
        return None
    while len(segs) > 1 and segs[0] in mod.children:
        mod = mod.children[segs[0]][2]
        segs = segs[1:]
    return mod, segs


def find_module(root, path):
    mod = root
    for p in path:
        mod = mod.children[p][2]
    return mod


def check_crate(name, directory, quiet):
    lib = os.path.join(ROOT, directory, "src", "lib.rs")
    root = Module((), lib)
    modules = [root]
    parse_file(lib, root, modules)

    reachable_mods = set()
    exposed = set()  # (module path, item name)
    public_name = {}  # (module path, item name) -> the path users write, when re-exported

    def expose_module(mod):
        if mod.path in reachable_mods:
            return False
        reachable_mods.add(mod.path)
        return True

    expose_module(root)
    changed = True
    while changed:
        changed = False
        for mod in modules:
            if mod.path in reachable_mods:
                for cname, (public, hidden, child) in mod.children.items():
                    if public and not hidden:
                        changed |= expose_module(child)
                for iname, item in mod.items.items():
                    if item.public and not item.hidden and (mod.path, iname) not in exposed:
                        exposed.add((mod.path, iname))
                        changed = True
            for alias, segs, glob in mod.uses:
                visible = mod.path in reachable_mods and (glob or alias is not None)
                if not visible:
                    continue
                res = resolve_module(root, mod, segs if not glob else segs + ["*"])
                if res is None:
                    continue
                target, rest = res
                if glob:
                    for iname, item in target.items.items():
                        if item.public and (target.path, iname) not in exposed:
                            exposed.add((target.path, iname))
                            changed = True
                    for cname, (public, hidden, child) in target.children.items():
                        if public:
                            changed |= expose_module(child)
                    continue
                if not rest:
                    continue
                leaf = rest[-1]
                if leaf in target.children and leaf not in target.items:
                    changed |= expose_module(target.children[leaf][2])
                elif leaf in target.items and (target.path, leaf) not in exposed:
                    if not target.items[leaf].hidden:
                        exposed.add((target.path, leaf))
                        if mod.path in reachable_mods:
                            public_name.setdefault((target.path, leaf), mod.path + (alias,))
                        changed = True

    # Types by name, for methods: the same module first, else a unique exposed type of that name.
    types_by_name = {}
    for mod in modules:
        for iname, item in mod.items.items():
            if (mod.path, iname) in exposed and item.kind in ("struct", "enum", "type", "trait", "union"):
                types_by_name.setdefault(iname, []).append(item)

    gaps, checked = [], 0
    for mod in modules:
        for iname, item in sorted(mod.items.items()):
            if (mod.path, iname) not in exposed or item.kind == "use":
                continue
            checked += 1
            if not has_example(item.docs):
                gaps.append((mod.path, item, None))
        for ty, methods in mod.impls:
            owner = mod.items.get(ty) if (mod.path, ty) in exposed else None
            if owner is None:
                cands = types_by_name.get(ty, [])
                owner = cands[0] if len(cands) == 1 else None
            if owner is None:
                continue
            for meth in methods:
                if meth.hidden:
                    continue
                checked += 1
                if has_example(meth.docs) or names_in_example(owner.docs, meth.name):
                    continue
                gaps.append((mod.path, meth, ty))
    for path, item, ty in [] if quiet else gaps:
        key = (path, ty or item.name)
        if path not in reachable_mods and key in public_name:  # defined in a private module
            shown = public_name[key] + ((item.name,) if ty else ())
        else:
            shown = path + ((ty,) if ty else ()) + (item.name,)
        full = "::".join((name.replace("-", "_"),) + shown)
        kind = "method" if ty and item.kind == "fn" else item.kind
        print(f"{name} {full} ({kind}) {os.path.relpath(item.file, ROOT)}:{item.line}")
    print(f"== {name}: {checked} public items, {checked - len(gaps)} with an example, {len(gaps)} without")
    return checked, len(gaps)


def code_blocks(docs):
    blocks, cur, inside = [], [], False
    for line in docs.split("\n"):
        s = line.strip()
        if s.startswith("```"):
            if not inside:
                tags = {t.strip() for t in s[3:].split(",")}
                compiled = all(t in COMPILED_FENCE_TAGS or re.fullmatch(r"edition\d{4}", t) for t in tags)
                inside, cur = True, ([] if compiled else None)
            else:
                if cur is not None:
                    blocks.append("\n".join(cur))
                inside = False
        elif inside and cur is not None:
            cur.append(line)
    return blocks


def has_example(docs):
    return bool(code_blocks(docs))


def names_in_example(docs, name):
    pat = re.compile(r"(\.|::)\s*" + re.escape(name) + r"\b")
    return any(pat.search(b) for b in code_blocks(docs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--crate", action="append", help="check only this crate (repeatable)")
    ap.add_argument("--quiet", action="store_true", help="only the per-crate summaries")
    ap.add_argument("--max-gaps", type=int, default=0, help="fail only above this many gaps")
    args = ap.parse_args()
    total = missing = 0
    for name, directory in CRATES:
        if args.crate and name not in args.crate:
            continue
        c, m = check_crate(name, directory, args.quiet)
        total, missing = total + c, missing + m
    print(f"== total: {total} public items, {missing} without a compiled example")
    if missing > args.max_gaps:
        print(f"more than the {args.max_gaps} allowed: add an example to each item listed above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
