#!/bin/sh
# Regenerates completions/{bash,zsh,fish} and man/ from the option tables (nsbox --generate), for every applet
# and for nsbox itself. Run after changing an option table, a completion rule or a man page text.
set -eu
cd "$(dirname "$0")/.."
cargo build -q --bin nsbox
nsbox=target/debug/nsbox
for shell in bash zsh fish; do
    mkdir -p "completions/$shell"
    for tool in $($nsbox --list) nsbox; do
        case $shell in
            bash) file=$tool ;;
            zsh) file=_$tool ;;
            fish) file=$tool.fish ;;
        esac
        $nsbox --generate "complete-$shell" "$tool" > "completions/$shell/$file"
    done
done
mkdir -p man
for tool in $($nsbox --list) nsbox; do
    page=$($nsbox --generate man "$tool")
    # The section is the .TH line's second field.
    section=$(printf '%s\n' "$page" | awk '$1 == ".TH" { print $3; exit }')
    printf '%s\n' "$page" > "man/$tool.$section"
done
