#!/usr/bin/env bash
# System packages for training and tests: TrueType fonts (many families, for the synthetic
# word generator), an English word list, and Tesseract (for the benchmark against it).
# Debian/Ubuntu; run as root (or with sudo). Usage: scripts/install_system_deps.sh [--minimal]
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
MINIMAL=(fonts-dejavu-core fonts-liberation wamerican)
FULL=(
  fonts-dejavu fonts-liberation fonts-freefont-ttf fonts-urw-base35 fonts-noto-core fonts-roboto
  fonts-open-sans fonts-lato fonts-crosextra-carlito fonts-crosextra-caladea fonts-ebgaramond
  fonts-cantarell fonts-comic-neue fonts-hack fonts-inconsolata fonts-firacode fonts-linuxlibertine
  fonts-sil-gentium fonts-sil-andika fonts-texgyre fonts-jetbrains-mono fonts-league-spartan
  fonts-dancingscript fonts-oxygen fonts-quicksand fonts-sil-charis fonts-adf-accanthis
  fonts-adf-gillius fonts-humor-sans fonts-fantasque-sans fonts-anonymous-pro
  fonts-staypuft fonts-yanone-kaffeesatz fonts-oldstandard fonts-junicode fonts-gfs-didot
  fonts-bebas-neue fonts-paratype fonts-averia-gwf fonts-karla fonts-lobster fonts-isabella
  fonts-tuffy wamerican tesseract-ocr
)
if [ "${1:-}" = "--minimal" ]; then PKGS=("${MINIMAL[@]}"); else PKGS=("${FULL[@]}"); fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
