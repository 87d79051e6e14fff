# cnctl(1) completion                                      -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later

_cnctl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
        local verbs='status ids monitor proc send request join leave reload help'
        local opts='--help -h --version --json= --no-pager --no-legend --quiet -q --kinds= --timeout= --via='
        local kinds='fork exec uid gid sid ptrace comm coredump exit'
        local i verb

        for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                        -*) ;;
                        *) verb=${COMP_WORDS[i]}; break ;;
                esac
        done

        # --opt=value arrives as three words: --opt, =, value.
        if [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
                prev=${COMP_WORDS[COMP_CWORD-2]}
        fi
        [[ $cur == = ]] && cur=
        case $prev in
                --json)
                        COMPREPLY=($(compgen -W 'short pretty off' -- "$cur"))
                        return ;;
                --kinds)
                        # A comma-separated list: complete the last word of it.
                        local done=${cur%,*} last=${cur##*,}
                        [[ $cur == *,* ]] && done+=, || done=
                        COMPREPLY=($(compgen -P "$done" -W "$kinds" -- "$last"))
                        compopt -o nospace 2>/dev/null
                        return ;;
                --via)
                        COMPREPLY=($(compgen -W 'stream signals' -- "$cur"))
                        return ;;
                --timeout)
                        return ;;
        esac

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
                [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
                return
        fi

        case $verb in
                '')
                        COMPREPLY=($(compgen -W "$verbs" -- "$cur")) ;;
                monitor|send|request)
                        # The ids cnd knows, from cnctl itself.
                        local ids
                        ids=$(cnctl ids --no-legend --no-pager 2>/dev/null | awk '{ print $1 ":" $2 }')
                        if [[ $verb == monitor ]] || ((COMP_CWORD == i + 1)); then
                                COMPREPLY=($(compgen -W "$ids" -- "$cur"))
                        elif [[ $cur == @* ]]; then
                                COMPREPLY=($(compgen -P @ -f -- "${cur#@}"))
                        fi ;;
                join|leave)
                        ((COMP_CWORD == i + 1)) && COMPREPLY=($(compgen -W "$(seq 1 32)" -- "$cur")) ;;
        esac
}

complete -F _cnctl cnctl
