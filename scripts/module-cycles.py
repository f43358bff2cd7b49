#!/usr/bin/env python3
"""Finds import cycles between the modules of a Rust crate; exits 1 if there is one.

Usage: python3 scripts/module-cycles.py crates/server/src src-tauri [...]

Each argument is a crate's source directory (its root is `lib.rs`, else `main.rs`) or a root
file. The module tree is what the root declares with `mod x;` (and `mod x { ... }`), followed
file by file, so a directory that also holds a binary's `main.rs`, a `build.rs` or benches is
read only as far as the library declares it.

What counts as a reference from module M to module N: any path in M's file that names N, in a
`use` (groups `{a, b::c}` included) or in code: `crate::n::...`, `super::...` and `self::...`
resolved against where they stand (inside inline modules too), and a path that starts with
the name of a child module in scope (`session::run` in `sip/mod.rs`). A path names the
deepest module it walks through (`crate::sip::SipCore` names `sip`), whatever it ends in. A
re-export (`pub use a::X;` in `m`) is a name, not a use: a path to `m::X` names `a`, where X
lives. `mod x;` alone is a declaration, not a reference; visibilities (`pub(super)`) are not
paths. Not seen: a dependency that is only a method call (`core.handle(..)` on a type whose
`impl` is in another file) or only a macro's expansion.

The nodes of the graph are the module files down to one level inside a directory: each
top-level file (`state`, `calls`, ...), each directory's `mod.rs` (`sip`, `live`, ...) and each
file directly inside a directory (`sip::offer`, `live::registry`, ...), the last with the
modules below it folded into it (`sip::session::invite` is `sip::session`). A directory is not
one node: `live::registry` can be a leaf that `state` uses while `live` (its `mod.rs`) uses
`state`. A `mod.rs` is a node like any file, so `sip` calling `sip::session` while
`sip::session` uses a type that `sip/mod.rs` defines is a cycle; the way out is to move the
shared type to a file of its own. Test code is left out (`#[cfg(test)] mod ...`): a test
reaches into what it tests by nature (`use super::*`) and ships in no binary. The crate root
(`lib.rs`) is left out too: it declares every module and wires them together, so it sits
above the graph by design.

Cycles are the strongly connected components with more than one node (Tarjan); for each, one
cycle through it is printed with, for each arrow, a file and line that makes it.
"""

import os
import re
import sys

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*)
  | (?P<raw_string>b?r(?P<hashes>\#*)")
  | (?P<string>b?"(?:\\.|[^"\\])*")
  | (?P<char>b?'(?:\\.|[^'\\])')
  | (?P<lifetime>'[A-Za-z_][A-Za-z0-9_]*)
  | (?P<ident>\$?r?\#?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<path_sep>::)
  | (?P<punct>.)
""", re.VERBOSE | re.DOTALL)


def tokens(text):
    """Yields (kind, value, line) with comments, strings and whitespace dropped."""
    pos, line, n = 0, 1, len(text)
    while pos < n:
        m = TOKEN.match(text, pos)
        kind = m.lastgroup
        if kind == "hashes":
            kind = "raw_string"
        end = m.end()
        if m.group("block_comment"):
            depth, i = 1, end
            while depth and i < n:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            end = i
        elif m.group("raw_string"):
            close = '"' + m.group("hashes")
            i = text.find(close, end)
            end = n if i < 0 else i + len(close)
        elif kind in ("ident", "path_sep", "punct"):
            value = m.group(0)
            if value.startswith("r#"):
                value = value[2:]
            yield (kind, value, line)
        line += text.count("\n", pos, end)
        pos = end


def is_test(toks, i):
    """Whether the `mod` at token i carries `#[cfg(test)]`."""
    j = i - 1
    if j >= 0 and toks[j][1] == ")":  # pub(crate) and the like
        while j >= 0 and toks[j][1] != "(":
            j -= 1
        j -= 1
    if j >= 0 and toks[j][1] == "pub":
        j -= 1
    while j >= 0 and toks[j][1] == "]":
        k = j
        while k >= 0 and toks[k][1] != "[":
            k -= 1
        if "".join(t[1] for t in toks[k + 1:j]) == "cfg(test)":
            return True
        j = k - 2  # before the `#`
    return False


def matching_brace(toks, i):
    depth = 0
    for j in range(i, len(toks)):
        if toks[j][1] == "{":
            depth += 1
        elif toks[j][1] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


class Crate:
    def __init__(self, root_file):
        self.root_file = root_file
        self.files = {}  # module path (tuple) -> file
        self.modules = set()  # every module path, file or inline
        self.refs = []  # (from module path, to path (tuple), file, line)
        self.file_module = {}  # module -> the module of the file it is written in
        self.aliases = {}  # (module, name) -> path: what `pub use` re-exports
        self._read((), root_file, is_mod_rs=True)

    def _read(self, module, path, is_mod_rs):
        self.files[module] = path
        self.file_module[module] = module
        self.modules.add(module)
        with open(path, encoding="utf-8") as f:
            toks = list(tokens(f.read()))
        # Where the files of this module's children live.
        if is_mod_rs:
            child_dir = os.path.dirname(path)
        else:
            child_dir = os.path.join(os.path.dirname(path), module[-1])
        self._scan(module, toks, path, child_dir)

    def _child_file(self, child_dir, name):
        for candidate, is_mod_rs in ((os.path.join(child_dir, name + ".rs"), False),
                                     (os.path.join(child_dir, name, "mod.rs"), True)):
            if os.path.isfile(candidate):
                return candidate, is_mod_rs
        return None, False

    def _scan(self, module, toks, path, child_dir):
        # First pass: the child modules declared at each inline level, so that a bare path can
        # be told from an external crate's.
        scopes = [(module, 0)]  # (module path, brace depth at which it closes)
        children = {module: set()}
        depth = 0
        i = 0
        file_children = []
        inline_at = {}  # token index of `{` -> inline module path
        skip_from = {}  # token index of the `{` of a `#[cfg(test)] mod tests {`
        while i < len(toks):
            kind, value, line = toks[i]
            if value == "{":
                depth += 1
            elif value == "}":
                depth -= 1
                if scopes[-1][1] == depth and len(scopes) > 1:
                    scopes.pop()
            elif kind == "ident" and value == "mod" and i + 2 < len(toks) and toks[i + 1][0] == "ident":
                name, after = toks[i + 1][1], toks[i + 2][1]
                current = scopes[-1][0]
                if is_test(toks, i):
                    if after == "{":
                        skip_from[i + 2] = True
                    i += 3
                    continue
                if after == ";":
                    children.setdefault(current, set()).add(name)
                    if current == module:
                        file_children.append(name)
                    else:
                        # `mod x;` inside an inline module: rare, and not used here.
                        raise SystemExit(f"{path}:{line}: nested `mod {name};` is not supported")
                    i += 3
                    continue
                if after == "{":
                    child = current + (name,)
                    children.setdefault(current, set()).add(name)
                    children.setdefault(child, set())
                    self.modules.add(child)
                    self.file_module[child] = self.file_module[module]
                    inline_at[i + 2] = child
                    depth += 1
                    scopes.append((child, depth - 1))
                    i += 3
                    continue
            i += 1
        self.children = getattr(self, "children", {})
        for m, c in children.items():
            self.children.setdefault(m, set()).update(c)

        # Second pass: the references, with the module each token stands in.
        scopes = [(module, 0)]
        depth = 0
        i = 0
        while i < len(toks):
            kind, value, line = toks[i]
            if i in skip_from:
                i = matching_brace(toks, i) + 1
                continue
            if i in inline_at:
                depth += 1
                scopes.append((inline_at[i], depth - 1))
                i += 1
                continue
            if value == "{":
                depth += 1
            elif value == "}":
                depth -= 1
                if scopes[-1][1] == depth and len(scopes) > 1:
                    scopes.pop()
            current = scopes[-1][0]
            if kind == "ident" and value == "use":
                public = i >= 1 and (toks[i - 1][1] == "pub" or toks[i - 1][1] == ")")
                i = self._use_tree(current, toks, i + 1, (), path, public)
                continue
            if kind == "ident" and i >= 2 and toks[i - 1][1] == "(" and toks[i - 2][1] == "pub":
                # A visibility, `pub(crate)`, `pub(super)`, `pub(in path)`: not a reference.
                while i < len(toks) and toks[i][1] != ")":
                    i += 1
                continue
            if kind == "ident" and (i == 0 or toks[i - 1][0] != "path_sep"):
                # A path in code: collect ident (:: ident)*.
                segs, j = [value], i + 1
                while j + 1 < len(toks) and toks[j][0] == "path_sep" and toks[j + 1][0] == "ident":
                    segs.append(toks[j + 1][1])
                    j += 2
                if len(segs) > 1 or value in ("crate", "super", "self"):
                    target = self._resolve(current, segs)
                    if target is not None:
                        self.refs.append((current, target, path, line))
                i = j
                continue
            i += 1

        for name in file_children:
            child_path, is_mod_rs = self._child_file(child_dir, name)
            if child_path is None:
                raise SystemExit(f"{path}: cannot find the file of `mod {name};`")
            self._read(module + (name,), child_path, is_mod_rs)

    def _resolve(self, current, segs):
        """The crate-internal path `segs` names from module `current`, or None if external."""
        head = segs[0]
        if head == "$crate" or head == "crate":
            return tuple(segs[1:])
        if head == "self":
            return current + tuple(segs[1:])
        if head == "super":
            base, k = current, 0
            while k < len(segs) and segs[k] == "super":
                base, k = base[:-1], k + 1
            return base + tuple(segs[k:])
        if head in self.children.get(current, set()):
            return current + tuple(segs)
        return None

    def _use_tree(self, current, toks, i, prefix, path, public):
        """Parses a use tree from token i; records its leaves; returns the index after it."""
        segs = list(prefix)
        alias = None
        line = toks[i][2] if i < len(toks) else 0
        while i < len(toks):
            kind, value, line = toks[i]
            if kind == "ident" and value != "as":
                segs.append(value)
                i += 1
            elif kind == "path_sep":
                i += 1
            elif value == "*":
                segs.append("*")
                i += 1
            elif value == "{":
                i += 1
                while i < len(toks) and toks[i][1] != "}":
                    i = self._use_tree(current, toks, i, tuple(segs), path, public)
                    if i < len(toks) and toks[i][1] == ",":
                        i += 1
                i += 1  # the `}`
                return self._skip_to_end(toks, i)
            elif kind == "ident" and value == "as":
                alias = toks[i + 1][1]
                i += 2
            else:
                break
        self._use_leaf(current, segs, path, line, public, alias)
        return i if prefix else self._skip_to_end(toks, i)

    @staticmethod
    def _skip_to_end(toks, i):
        # After a group, the caller sees `,` / `}` (nested) or `;` (top level).
        if i < len(toks) and toks[i][1] == ";":
            return i + 1
        return i

    def _use_leaf(self, current, segs, path, line, public, alias):
        if segs and segs[-1] == "self":
            segs = segs[:-1]
        if not segs:
            return
        target = self._resolve(current, segs)
        if target is None:
            return
        if public and segs[-1] != "*":
            # A re-export is a name, not a use: who names it refers to where it points.
            self.aliases[(current, alias or segs[-1])] = target
        else:
            self.refs.append((current, target, path, line))

    def deepest_module(self, target):
        """The deepest module the path `target` walks through, re-exports followed."""
        for _ in range(100):
            best = ()
            for k in range(1, len(target) + 1):
                if target[:k] in self.modules:
                    best = target[:k]
                else:
                    break
            k = len(best)
            if k < len(target) and (best, target[k]) in self.aliases:
                target = self.aliases[(best, target[k])] + target[k + 1:]
                continue
            return best
        raise SystemExit(f"re-exports loop at {'::'.join(target)}")


def tarjan(nodes, edges):
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def one_cycle(comp, edges):
    """A shortest cycle through comp's first node, staying inside comp (BFS)."""
    members = set(comp)
    start = comp[0]
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges.get(v, ())):
                if w not in members:
                    continue
                if w == start:
                    cycle = [v]
                    while prev[cycle[-1]] is not None:
                        cycle.append(prev[cycle[-1]])
                    return list(reversed(cycle)) + [start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return comp + [start]


def name(node):
    return "::".join(node) if node else "crate"


def check(crate, label, node_of):
    """node_of(module) -> node or None (not in this graph). Returns the number of cycles."""
    nodes, edges, witness = set(), {}, {}
    for module in crate.modules:
        n = node_of(module)
        if n is not None:
            nodes.add(n)
    for src, target, path, line in crate.refs:
        a, b = node_of(src), node_of(crate.deepest_module(target))
        if a is None or b is None or a == b:
            continue
        edges.setdefault(a, set()).add(b)
        witness.setdefault((a, b), (path, line))
    found = 0
    for comp in tarjan(nodes, edges):
        if len(comp) < 2:
            continue
        found += 1
        cycle = one_cycle(comp, edges)
        print(f"cycle in {label}: {' -> '.join(name(n) for n in cycle)}")
        if len(comp) > len(cycle) - 1:
            print(f"  (strongly connected: {', '.join(name(n) for n in comp)})")
        for a, b in zip(cycle, cycle[1:]):
            path, line = witness[(a, b)]
            print(f"  {name(a)} -> {name(b)}: {path}:{line}")
    return found


def main(args):
    if not args:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    total = 0
    for arg in args:
        if os.path.isdir(arg):
            root = next((os.path.join(arg, f) for f in ("lib.rs", "main.rs")
                         if os.path.isfile(os.path.join(arg, f))), None)
            if root is None:
                raise SystemExit(f"{arg}: no lib.rs or main.rs")
        else:
            root = arg
        crate = Crate(root)
        found = check(crate, root, lambda m: crate.file_module[m][:2] or None)
        modules = len([m for m in crate.files])
        if found:
            print(f"{root}: {found} cycle(s) among {modules} module files")
        else:
            print(f"{root}: no cycle among {modules} module files")
        total += found
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
