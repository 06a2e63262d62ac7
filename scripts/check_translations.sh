#!/usr/bin/env bash
# Fails when a user-visible string has no Chinese translation or the compiled
# catalogue is stale. Update with: scripts/update_translations.sh, translate, rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v msgfmt >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq gettext >/dev/null; }
work="$(mktemp -d)"
po=wuye/locale/zh_Hans/LC_MESSAGES/django.po
# The committed .mo must be the compiled committed .po.
msgfmt --check -o "$work/django.mo" "$po"
stale=0
cmp -s "$work/django.mo" wuye/locale/zh_Hans/LC_MESSAGES/django.mo || stale=1
cp -r wuye/locale "$work/locale.orig"
(cd wuye && uv run --quiet wuye manage makemessages -l zh_Hans --no-obsolete --no-location >/dev/null)
missing="$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid ' || true)"
fuzzy="$(msgattrib --only-fuzzy --no-obsolete "$po" | grep -c '^msgid ' || true)"
# Restore the committed catalogue so CI leaves the tree as it found it.
rm -rf wuye/locale && cp -r "$work/locale.orig" wuye/locale
# Entries count the header too.
if [ "$missing" -gt 1 ] || [ "$fuzzy" -gt 0 ] || [ "$stale" -ne 0 ]; then
  echo "translations: untranslated=$((missing > 0 ? missing - 1 : 0)) fuzzy=$fuzzy stale_mo=$stale"
  echo "run scripts/update_translations.sh, translate the new msgids, commit the .po and .mo"
  exit 1
fi
echo "translations: complete"
