#!/usr/bin/env bash
# The modules of each crate and the modules each one refers to, and whether two of them
# refer to each other (directly or around a longer loop): a module that calls back into
# its caller is a concept in the wrong file.
#
# A reference is a path through the crate: `use crate::a::B`, `crate::a::f(..)` in code,
# `use crate::{a::B, C}`, `super::x` (the parent module) and `self::x` (a child). A path to
# an item the crate root re-exports (`crate::B`, with `pub use a::B` in lib.rs) counts as a
# reference to the module that defines it. The crate root (lib.rs, main.rs) is left out:
# it declares the modules and re-exports their items. Comments are skipped (a doc link is
# no dependency). A module's files are `src/a.rs` or `src/a/mod.rs`, `src/a/b.rs` is
# `a::b`, and a `#[path = "x.rs"] mod a;` in the root makes x.rs (another `a`) count as `a`.
#
# Usage:
#   scripts/module-cycles.sh [CRATE_DIR ...]   every crate of the workspace by default
# Prints, per crate, each module's references and then `no cycle` or each group of
# modules that refer to each other in a loop; exits 1 when any crate has one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if (($# == 0)); then
  set -- resolver compose linker graph host cli tests
fi

status=0
for crate in "$@"; do
  crate="${crate%/}"
  src="$crate/src"
  [[ -d "$src" ]] || src="$crate"
  root=""
  for candidate in "$src/lib.rs" "$src/main.rs" "$crate/lib.rs"; do
    if [[ -f "$candidate" ]]; then
      root="$candidate"
      break
    fi
  done
  [[ -n "$root" ]] || { echo "module-cycles.sh: no lib.rs or main.rs in $crate" >&2; exit 2; }
  # The root first (re-exports, `#[path]` modules), then every other file of the crate,
  # leaving out benches, binaries, examples and the integration tests' own folders.
  files=("$root")
  while IFS= read -r file; do
    [[ "$file" == "$root" ]] || files+=("$file")
  done < <(cd . && find "$(dirname "$root")" -name '*.rs' \
    -not -path '*/target/*' -not -path '*/benches/*' -not -path '*/bin/*' \
    -not -path '*/examples/*' -not -path "$crate/all/*" | sort)
  echo "$crate"
  awk -v base="$(dirname "$root")/" -v root="$root" '
    # The module a file is, from its path under the crate root folder.
    function module_of(file,   rel, n, parts, i, name) {
      if (file in path_module) return path_module[file]
      rel = substr(file, length(base) + 1)
      sub(/\.rs$/, "", rel)
      sub(/\/mod$/, "", rel)
      n = split(rel, parts, "/")
      name = parts[1]
      for (i = 2; i <= n; i++) name = name "::" parts[i]
      return name
    }
    # The longest prefix of `path` (segments joined by ::) that is a module, or "".
    function module_prefix(path,   n, parts, i, prefix, found) {
      n = split(path, parts, "::")
      prefix = ""
      found = ""
      for (i = 1; i <= n; i++) {
        prefix = (i == 1) ? parts[1] : prefix "::" parts[i]
        if (prefix in modules) found = prefix
      }
      return found
    }
    # The module that a crate-relative path refers to ("" for the root or another crate).
    function target(path,   m, first) {
      m = module_prefix(path)
      if (m != "") return m
      first = path
      sub(/::.*/, "", first)
      if (first in reexport) return reexport[first]
      return ""
    }
    function edge(from, to) {
      if (to == "" || to == from || from == "") return
      if (!((from, to) in edges)) {
        edges[from, to] = 1
        out[from] = out[from] " " to
      }
    }
    # Items of a `{...}` group starting at `text` (just after the brace), each a path
    # relative to `prefix` (crate-relative, "" for the root), reported to `record`.
    function group(text, prefix, from, is_reexport,   depth, i, c, item, rest) {
      depth = 0
      item = ""
      for (i = 1; i <= length(text); i++) {
        c = substr(text, i, 1)
        if (c == "{") {
          if (depth == 0) {
            rest = substr(text, i + 1)
            sub(/::$/, "", item)
            gsub(/ /, "", item)
            group(rest, join(prefix, item), from, is_reexport)
          }
          depth++
        } else if (c == "}") {
          if (depth == 0) { record(join(prefix, item), from, is_reexport); return }
          depth--
          if (depth == 0) item = "#"
        } else if (c == "," && depth == 0) {
          record(join(prefix, item), from, is_reexport)
          item = ""
        } else if (depth == 0 && item != "#") {
          item = item c
        }
      }
    }
    function join(prefix, item) {
      gsub(/^[ \t]+|[ \t]+$/, "", item)
      if (item == "" || item == "#") return ""
      return prefix == "" ? item : prefix "::" item
    }
    function record(path, from, is_reexport,   name, m) {
      if (path == "") return
      sub(/ +as +.*/, "", path)
      gsub(/ /, "", path)
      if (is_reexport) {
        name = path
        sub(/.*::/, "", name)
        m = module_prefix(path)
        if (m != "" && name != "*") reexport[name] = m
        return
      }
      edge(from, target(path))
    }
    # Every file: remember its text without comments; the root first.
    FNR == 1 {
      file = FILENAME
      if (file != root) {
        m = module_of(file)
        modules[m] = 1
        order[++count] = file
      }
    }
    {
      line = $0
      # A `#[path = "x.rs"]` module of the root is x.rs under the name it declares.
      if (file == root && line ~ /#\[path *= *"/) {
        pending_path = line
        sub(/.*#\[path *= *"/, "", pending_path)
        sub(/".*/, "", pending_path)
        next
      }
      if (file == root && pending_path != "" && line ~ /mod [A-Za-z_]/) {
        name = line
        sub(/.*mod +/, "", name)
        sub(/[ ;{].*/, "", name)
        path_module[base pending_path] = name
        pending_path = ""
      }
      # Comments: from `//` at the start or after a space to the end of the line.
      sub(/^[ \t]*\/\/.*/, "", line)
      sub(/[ \t]\/\/.*/, "", line)
      # `super::` inside an inline module (indented) is the file itself.
      if (line ~ /^[ \t]+.*super::/ && line ~ /use super::\*/) line = ""
      text[file] = text[file] " " line
    }
    END {
      # The root re-exports: `pub use a::B;` and `pub use a::{B, c::D};`.
      t = text[root]
      while (match(t, /pub use [A-Za-z_][A-Za-z0-9_:]*(::\{|;| as )/)) {
        stmt = substr(t, RSTART + 8, RLENGTH - 8)
        t = substr(t, RSTART + RLENGTH)
        if (stmt ~ /\{$/) {
          sub(/::\{$/, "", stmt)
          group(t, stmt, "", 1)
        } else {
          sub(/(;| as )$/, "", stmt)
          record(stmt, "", 1)
        }
      }
      for (i = 1; i <= count; i++) {
        f = order[i]
        from = module_of(f)
        t = text[f]
        while (match(t, /(^|[^A-Za-z0-9_])(crate|super|self)::([A-Za-z_][A-Za-z0-9_]*::)*([A-Za-z_][A-Za-z0-9_]*|\{)/)) {
          ref = substr(t, RSTART, RLENGTH)
          after = substr(t, RSTART + RLENGTH)
          t = after
          sub(/^[^a-z]/, "", ref)
          kind = ref
          sub(/::.*/, "", kind)
          path = substr(ref, length(kind) + 3)
          prefix = ""
          if (kind == "super") {
            prefix = from
            if (prefix !~ /::/) prefix = ""
            else sub(/::[^:]*$/, "", prefix)
          } else if (kind == "self") {
            prefix = from
          }
          if (path ~ /\{$/) {
            sub(/:*\{$/, "", path)
            group(after, join(prefix, path), from, 0)
          } else {
            sub(/::$/, "", path)
            p = join(prefix, path)
            if (p == "" && kind == "super") continue
            record(p, from, 0)
          }
        }
      }
      # Each module and what it refers to, in the order of the files.
      n = 0
      for (i = 1; i <= count; i++) {
        m = module_of(order[i])
        if (m in seen) continue
        seen[m] = 1
        mod_name[++n] = m
      }
      for (i = 1; i <= n; i++) {
        list = out[mod_name[i]]
        sub(/^ /, "", list)
        gsub(/ /, ", ", list)
        printf "  %s -> %s\n", mod_name[i], (list == "" ? "(nothing)" : list)
      }
      # Which module reaches which (Floyd-Warshall), then the groups that reach each other.
      for (i = 1; i <= n; i++)
        for (j = 1; j <= n; j++)
          reach[i, j] = ((mod_name[i], mod_name[j]) in edges) ? 1 : 0
      for (k = 1; k <= n; k++)
        for (i = 1; i <= n; i++)
          if (reach[i, k])
            for (j = 1; j <= n; j++)
              if (reach[k, j]) reach[i, j] = 1
      cycles = 0
      for (i = 1; i <= n; i++) {
        if (!reach[i, i] || (i in grouped)) continue
        members = ""
        for (j = 1; j <= n; j++)
          if (reach[i, j] && reach[j, i]) { grouped[j] = 1; members = members ", " mod_name[j] }
        cycles++
        printf "  CYCLE: %s\n", substr(members, 3)
        for (a = 1; a <= n; a++)
          for (b = a + 1; b <= n; b++)
            if (((mod_name[a], mod_name[b]) in edges) && ((mod_name[b], mod_name[a]) in edges) \
                && reach[i, a] && reach[a, i] && reach[i, b] && reach[b, i])
              printf "    %s <-> %s\n", mod_name[a], mod_name[b]
      }
      if (cycles == 0) print "  no cycle"
      exit cycles > 0 ? 1 : 0
    }
  ' "${files[@]}" || status=1
done
exit "$status"
