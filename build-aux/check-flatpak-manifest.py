#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# check-flatpak-manifest.py — keep flatpak/io.github.curata.Curata.json consistent with the build.
#
# The manifest cannot be built offline, so check what can be: it parses (JSON with C comments,
# as flatpak-builder's json-glib reads it), its id is the application id used by the desktop
# file and metainfo, every -D option of the curata module exists in meson_options.txt with a
# valid value, and every archive source has a well-formed sha256.
#
# usage: check-flatpak-manifest.py SOURCE_ROOT
import json
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
errors = []

with open(os.path.join(root, "flatpak", "io.github.curata.Curata.json"), encoding="utf-8") as f:
    text = f.read()
# Strip /* … */ comments outside strings (json-glib accepts them; Python's json does not).
stripped = re.sub(r'"(?:\\.|[^"\\])*"|/\*.*?\*/', lambda m: m.group(0) if m.group(0).startswith('"') else "",
                  text, flags=re.S)
manifest = json.loads(stripped)

if manifest.get("id") != "io.github.curata.Curata":
    errors.append(f"id is {manifest.get('id')!r}")
for key in ("runtime", "runtime-version", "sdk", "command", "modules"):
    if key not in manifest:
        errors.append(f"missing {key}")
if manifest.get("command") != "curata":
    errors.append("command is not curata")

with open(os.path.join(root, "meson_options.txt"), encoding="utf-8") as f:
    options_text = f.read()
options = {}
for m in re.finditer(r"option\('([^']+)',\s*type:\s*'(\w+)'(.*?)\)\s*$", options_text, flags=re.S | re.M):
    name, typ, rest = m.groups()
    choices = re.search(r"choices:\s*\[([^\]]*)\]", rest)
    options[name] = (typ, re.findall(r"'([^']*)'", choices.group(1)) if choices else None)

modules = {m.get("name"): m for m in manifest.get("modules", []) if isinstance(m, dict)}
curata = modules.get("curata")
if curata is None:
    errors.append("no curata module")
else:
    if curata.get("buildsystem") != "meson":
        errors.append("curata module is not built with meson")
    for opt in curata.get("config-opts", []):
        m = re.match(r"-D([\w-]+)=(.*)$", opt)
        if not m:
            errors.append(f"curata config-opt {opt!r} is not -Dname=value")
            continue
        name, value = m.groups()
        if name not in options:
            errors.append(f"curata config-opt -D{name} is not in meson_options.txt")
            continue
        typ, choices = options[name]
        if typ == "boolean" and value not in ("true", "false"):
            errors.append(f"-D{name}={value}: not a boolean")
        if typ == "combo" and choices is not None and value not in choices:
            errors.append(f"-D{name}={value}: not one of {choices}")

for module in modules.values():
    for source in module.get("sources", []):
        if source.get("type") == "archive":
            if not re.fullmatch(r"[0-9a-f]{64}", source.get("sha256", "")):
                errors.append(f"module {module.get('name')}: archive without a well-formed sha256")
            if not source.get("url", "").startswith("https://"):
                errors.append(f"module {module.get('name')}: archive url is not https")

for e in errors:
    print("flatpak manifest:", e, file=sys.stderr)
print(f"flatpak manifest: {len(modules)} modules, {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
