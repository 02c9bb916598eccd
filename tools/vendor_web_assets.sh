#!/usr/bin/env bash
# Fetch the site's JavaScript (MathJax 3, require.js, the ipywidgets HTML manager) from the npm registry
# into web/vendor/, so the built book works with no internet. Pinned versions; licences kept beside the files.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=web/vendor
mathjax=mathjax@3.2.2              # 4.x loads its fonts from a CDN
manager=@jupyter-widgets/html-manager@1.0.15
requirejs=requirejs@2.3.8
stamp="$dest/.versions"
want="$mathjax $manager $requirejs"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$mathjax" "$manager" "$requirejs" >/dev/null)
for tgz in "$tmp"/*.tgz; do mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done

rm -rf "$dest" && mkdir -p "$dest/mathjax/output/chtml/fonts" "$dest/mathjax/input/tex" "$dest/html-manager" "$dest/requirejs"
mj="$tmp"/mathjax-3.2.2/package
cp "$mj/LICENSE" "$mj/es5/tex-mml-chtml.js" "$dest/mathjax/"
cp -r "$mj/es5/output/chtml/fonts/woff-v2" "$dest/mathjax/output/chtml/fonts/"
cp -r "$mj/es5/input/tex/extensions" "$dest/mathjax/input/tex/"
cp -r "$mj/es5/ui" "$mj/es5/a11y" "$mj/es5/sre" "$dest/mathjax/"

hm="$tmp"/jupyter-widgets-html-manager-1.0.15/package
cp "$hm"/dist/embed-amd.js "$hm"/dist/*.woff* "$hm"/dist/*.ttf "$hm"/dist/*.eot "$hm"/dist/*.svg \
   "$hm"/dist/embed.js.LICENSE.txt "$hm/package.json" "$dest/html-manager/"

rq="$tmp"/requirejs-2.3.8/package
cp "$rq/require.js" "$rq/package.json" "$dest/requirejs/"

cat > "$dest/LICENSES.md" <<'TXT'
# Vendored web assets
| package | version | licence | where the licence text is |
|---|---|---|---|
| mathjax | 3.2.2 | Apache-2.0 | mathjax/LICENSE |
| @jupyter-widgets/html-manager | 1.0.15 | BSD-3-Clause | html-manager/package.json, html-manager/embed.js.LICENSE.txt |
| requirejs | 2.3.8 | MIT | requirejs/require.js header, requirejs/package.json |
Fetched from the npm registry by tools/vendor_web_assets.sh.
TXT
echo "$want" > "$stamp"
echo "vendored: $want"
