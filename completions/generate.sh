#!/bin/sh
# Regenerates completions/{bash,zsh,fish} from the option tables (nsbox --generate).
set -eu
cd "$(dirname "$0")/.."
cargo build -q --bin nsbox
nsbox=target/debug/nsbox
for shell in bash zsh fish; do
    mkdir -p "completions/$shell"
    for tool in $($nsbox --list); do
        case $shell in
            bash) file=$tool ;;
            zsh) file=_$tool ;;
            fish) file=$tool.fish ;;
        esac
        $nsbox --generate "complete-$shell" "$tool" > "completions/$shell/$file"
    done
done
