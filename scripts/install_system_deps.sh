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
  fonts-tuffy
  # more families (added for the stage-3 default model)
  fonts-go fonts-croscore fonts-cmu fonts-vollkorn fonts-inter fonts-mononoki fonts-play
  fonts-jura fonts-yrsa-rasa fonts-cabin fonts-prociono fonts-goudybookletter
  fonts-ocr-a fonts-femkeklaver fonts-breip fonts-dkg-handwriting fonts-rufscript
  fonts-tomsontalks fonts-blankenburg fonts-agave fonts-manrope fonts-b612 fonts-clear-sans
  fonts-beteckna fonts-radisnoir fonts-sora fonts-adf-verana fonts-adf-baskervald
  fonts-adf-berenis fonts-adf-tribun fonts-adf-universalis fonts-adf-libris fonts-adf-ikarius
  fonts-adf-romande fonts-adf-irianis fonts-adf-mekanus fonts-junction fonts-quattrocento
  fonts-sil-doulos fonts-gfs-artemisia fonts-gfs-bodoni-classic fonts-gfs-neohellenic fonts-mplus
  fonts-hermit fonts-monoid fonts-roboto-slab fonts-noto-mono
  # old-style serif italics, whose h curls in like a b (added for the stage-9 default model)
  fonts-cardo fonts-lindenhill fonts-stix fonts-johnsmith-induni fonts-adf-oldania
  wamerican tesseract-ocr
)
if [ "${1:-}" = "--minimal" ]; then PKGS=("${MINIMAL[@]}"); else PKGS=("${FULL[@]}"); fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${PKGS[@]}"
