#!/bin/sh
# Adds Bunko to the desktop's application menu (and, with --desktop, an icon on the desktop)
# for this user only; no root, nothing outside your home folder. Run it from the unpacked Bunko
# folder. Remove with: rm ~/.local/share/applications/bunko.desktop
set -eu
here=$(cd "$(dirname "$0")" && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$apps"
icon="$here/_internal/resources/icons/bunko.png"
[ -f "$icon" ] || icon=$(find "$here" -name bunko.png -path '*icons*' | head -n 1)
entry="$apps/bunko.desktop"
cat > "$entry" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Bunko
Name[ja]=文庫
Comment=Chat with your documents, offline
Comment[ja]=手元の文書とオフラインで対話
Exec="$here/bunko"
Icon=$icon
Terminal=false
Categories=Office;Utility;
DESKTOP
chmod +x "$entry"
if [ "${1:-}" = "--desktop" ]; then
  desk=$(xdg-user-dir DESKTOP 2>/dev/null || echo "$HOME/Desktop")
  mkdir -p "$desk" && cp "$entry" "$desk/" && chmod +x "$desk/bunko.desktop"
fi
echo "Bunko is in your application menu ($entry)."
