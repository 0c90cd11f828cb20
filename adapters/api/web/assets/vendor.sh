#!/bin/sh
# Vendors the Amsterdam Design System (NL Design System family) into ../static/vendor/amsterdam/
# from the pinned versions in package-lock.json. Run it by hand after changing package.json
# (then commit the result); nothing runs at start or at request time, and no page uses a CDN.
#   adapters/api/web/assets/vendor.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../static/vendor/amsterdam"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund)
css="$work/node_modules/@amsterdam/design-system-css"
tokens="$work/node_modules/@amsterdam/design-system-tokens"
css_version=$(node -p "require('$css/package.json').version")
tokens_version=$(node -p "require('$tokens/package.json').version")

mkdir -p "$out"
rm -f "$out"/*
# The components (EUPL-1.2): copied unchanged, without the source-map comment.
sed 's@/\*# sourceMappingURL=[^*]*\*/@@g' "$css/dist/index.css" > "$out/components.css"
cp "$css/LICENSE.txt" "$out/LICENSE-EUPL-1.2.txt"
# The tokens: Amsterdam's branding is not licensed to others, so Kringloop's own values.
node "$here/rebrand.mjs" "$tokens/dist/index.css" "$here/brand.json" "$out/tokens.css" "$tokens_version"

cat > "$out/VERSIONS.txt" <<TXT
Vendored by adapters/api/web/assets/vendor.sh from adapters/api/web/assets/package-lock.json (npm ci).
Source: https://github.com/Amsterdam/design-system (npm registry, https://registry.npmjs.org/)

components.css
  package: @amsterdam/design-system-css
  version: $css_version
  file: dist/index.css, unchanged (source-map comment removed)
  licence: EUPL-1.2 (LICENSE-EUPL-1.2.txt)

tokens.css
  package: @amsterdam/design-system-tokens
  version: $tokens_version
  file: dist/index.css with Kringloop's own colours and typeface (assets/brand.json, assets/rebrand.mjs)
  licence: the package's values are the City of Amsterdam's proprietary branding (its LICENSE.md);
    its README allows copying the token files with one's own branding, which is what tokens.css is.

Not vendored: @amsterdam/design-system-assets (the Amsterdam Sans typeface, logos and icons are
not openly licensed). The pages use the fallback font stack (Arial, sans-serif). package.json pins it
at 2.6.0 through "overrides" (the 2.7.0 that design-system-css 4.5.0 names was not on the registry);
nothing of it is copied.
TXT
echo "vendored @amsterdam/design-system-css $css_version and @amsterdam/design-system-tokens $tokens_version into $out"
