"""Where each `${...}` placeholder stands in a bash script, read the way bash reads it.

`scan(template)` walks the script once with a stack of frames (unquoted command text,
'...', "...", $'...', $(...), backticks, [[ ... ]], ${...} expansions, arithmetic, and
here-document bodies) and reports every placeholder with:

- its quoting `Context`, which decides how `shellsafe` writes the reference to the value;
- the `Need` of the spot: bash *evaluates* text in arithmetic (`$((..))`, `$[..]`, `((..))`,
  `let`, `${s:off:len}`, array subscripts, `declare -i` values, `[[ -eq ]]` operands) and
  in variable-name positions (`read NAME`, `printf -v NAME`, `declare NAME`, `[[ -v NAME ]]`),
  running any `$(...)` inside an array subscript even when the value came from a quoted
  variable. Only an integer (resp. an identifier) is data there.

It is not a full bash parser; docs/interpolation.md lists what it understands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from prodigy.core.interpolation import TOKEN, Placeholder, parse_placeholder


class Context(Enum):
    """The quoting a placeholder stands in (how its reference must be written)."""

    UNQUOTED = "unquoted"
    SINGLE = "single-quoted"
    DOUBLE = "double-quoted"
    ANSI_C = "$'...'"
    PARAM = "inside a ${...} expansion"
    ARITH = "arithmetic"
    HEREDOC = "here-document"
    HEREDOC_LITERAL = "quoted here-document"


class Need(Enum):
    """What a value must look like to stay data where its placeholder stands."""

    TEXT = "any text"
    INTEGER = "an integer"
    NAME = "a variable name"


@dataclass(frozen=True)
class Site:
    """A placeholder, its quoting context, and what bash does with the text there."""

    placeholder: Placeholder
    context: Context
    delimiter: str = ""  # of the quoted here-document it stands in
    need: Need = Need.TEXT
    where: str = ""  # the bash construct that evaluates it, for messages: "let", "$((...))"

    @property
    def numeric(self) -> bool:
        return self.need is Need.INTEGER


@dataclass(frozen=True)
class LiteralBody:
    """The body of a quoted here-document: [start, end) of the template, and its delimiter."""

    start: int
    end: int
    delimiter: str
    strip_tabs: bool


@dataclass(frozen=True)
class Scan:
    sites: tuple[Site, ...]
    literal_bodies: tuple[LiteralBody, ...]


@dataclass
class _Frame:
    # top/cmd/tick/cond: command text; sq/dq/ansi: quotes; arith; param; heredoc
    kind: str
    close: str = ""  # arith: "))" or "]"
    arith: str = ""  # non-empty: text here is evaluated as arithmetic (names the construct)
    depth: int = 0
    words: list[str] = field(default_factory=list)  # finished words of the current command
    word_start: int | None = None
    case_depth: int = 0
    phase: str = ""  # param: "start", "op", "word"
    delimiter: str = ""  # heredoc
    strip_tabs: bool = False
    body_start: int = 0


_COMMAND_KINDS = frozenset({"top", "cmd", "tick", "cond"})
_QUOTE_KINDS = frozenset({"sq", "dq", "ansi"})
_CONTEXT_OF = dict.fromkeys(_COMMAND_KINDS, Context.UNQUOTED) | {
    "sq": Context.SINGLE,
    "dq": Context.DOUBLE,
    "ansi": Context.ANSI_C,
    "arith": Context.ARITH,
    "param": Context.PARAM,
    "heredoc": Context.HEREDOC,
}
_HEREDOC_OP = re.compile(r"<<(-?)[ \t]*")
_WORD_END = frozenset(" \t\n;&|<>()")
_KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!"})
_KEYWORDS |= frozenset({"{", "}", "time", "esac"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_SUBSCRIPT_OPEN = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*)?\[[^\]]*")
_REDIRECTION = re.compile(r"[0-9]*(?:<<<|<<-?|<>|>>|>\||<&|>&|&>>|&>|<|>)(.*)", re.DOTALL)
_PARAM_NAME = re.compile(r"[#!]?(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])?")
_DECLARE = frozenset({"declare", "typeset", "local", "readonly", "export"})
# Builtins whose operands are variable names, and their options that take a value.
_NAME_ARGUMENTS = {
    "read": frozenset({"-d", "-i", "-n", "-N", "-p", "-t", "-u"}),
    "mapfile": frozenset({"-d", "-n", "-O", "-s", "-u", "-C", "-c"}),
    "readarray": frozenset({"-d", "-n", "-O", "-s", "-u", "-C", "-c"}),
}
_ARITH_TEST = re.compile(r"\s-(?:eq|ne|lt|le|gt|ge)\s")


def scan(template: str) -> Scan:
    """Every placeholder bash would expand in `template`, with its context and need."""
    scanner = _Scanner(template)
    scanner.run()
    return Scan(tuple(scanner.sites), tuple(scanner.literal_bodies))


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.stack = [_Frame("top")]
        self.pending: list[tuple[str, bool, bool]] = []  # here-documents opened on this line
        self.sites: list[Site] = []
        self.literal_bodies: list[LiteralBody] = []

    def run(self) -> None:
        text = self.text
        while self.i < len(text):
            if self._heredoc_ends_here():
                continue
            frame, char = self.stack[-1], text[self.i]
            starts_word = frame.kind in _COMMAND_KINDS and frame.word_start is None
            if starts_word and char not in " \t\n;&|()":
                frame.word_start = self.i
            if char == "$":
                self._dollar(frame)
            elif char == "\\" and frame.kind != "sq":
                self.i += 2
            elif frame.kind in ("sq", "ansi"):
                self.i += 1
                if char == "'":
                    self.stack.pop()
            elif frame.kind == "dq":
                self._quoted_step(frame, char, closes='"')
            elif frame.kind == "heredoc":
                self._quoted_step(frame, char, closes="")
            elif frame.kind == "arith":
                self._arith_step(frame, char)
            elif frame.kind == "param":
                self._param_step(frame, char)
            else:
                self._command_step(frame, char)

    # --- frames ----------------------------------------------------------------------------

    def _quoted_step(self, frame: _Frame, char: str, closes: str) -> None:
        self.i += 1
        if closes and char == closes:
            self.stack.pop()
        elif char == "`":
            self.stack.append(_Frame("tick"))

    def _arith_step(self, frame: _Frame, char: str) -> None:
        if frame.depth == 0 and self.text.startswith(frame.close, self.i):
            self.stack.pop()
            self.i += len(frame.close)
            return
        self.i += 1
        if char in "([":
            frame.depth += 1
        elif char in ")]":
            frame.depth -= 1
        elif char == '"':
            self.stack.append(_Frame("dq"))
        elif char == "`":
            self.stack.append(_Frame("tick"))

    def _param_step(self, frame: _Frame, char: str) -> None:
        text = self.text
        if frame.phase == "start":
            match = _PARAM_NAME.match(text, self.i)
            self.i = match.end() if match else self.i
            frame.phase = "op"
            if text.startswith("[", self.i):
                self.stack.append(_Frame("arith", close="]", arith="an array subscript ${a[...]}"))
                self.i += 1
            return
        if frame.phase == "op":
            frame.phase = "word"
            if char == ":" and text[self.i + 1 : self.i + 2] not in ("-", "=", "+", "?"):
                frame.arith = "a substring offset or length ${s:offset:length}"
                self.i += 1
                return
        if char == "}":
            if frame.depth == 0:
                self.stack.pop()
            else:
                frame.depth -= 1
        elif char == "{":
            frame.depth += 1
        elif char == '"':
            self.stack.append(_Frame("dq"))
        elif char == "'" and not self._inside_double_quotes():
            self.stack.append(_Frame("sq"))
        elif char == "`":
            self.stack.append(_Frame("tick"))
        self.i += 1

    def _inside_double_quotes(self) -> bool:
        for frame in reversed(self.stack[:-1]):
            if frame.kind in ("dq", "heredoc"):
                return True
            if frame.kind != "param":
                return False
        return False

    def _command_step(self, frame: _Frame, char: str) -> None:
        text, i = self.text, self.i
        at_word_start = frame.word_start == i
        if char in " \t":
            self._end_word(frame)
        elif char == "\n":
            self._end_command(frame)
            if self.pending:
                self._start_heredocs(i + 1)
                return
        elif char == "&" and text.startswith("&>", i):
            self._end_word(frame)
            frame.word_start = i  # `&>file`: one redirection word
            self.i += 2
            return
        elif char in ";&|":
            self._end_command(frame)
        elif char == "(":
            if text.startswith("((", i) and frame.word_start is None:
                self.stack.append(
                    _Frame("arith", close="))", arith="an arithmetic command ((...))")
                )
                self.i += 2
                return
            self._end_command(frame)
            if frame.kind == "cmd":
                frame.depth += 1
        elif char == ")":
            self._end_command(frame)
            if frame.kind == "cmd":
                if frame.depth > 0:
                    frame.depth -= 1
                elif frame.case_depth == 0:
                    self.stack.pop()
        elif char == "'":
            self.stack.append(_Frame("sq"))
        elif char == '"':
            self.stack.append(_Frame("dq"))
        elif char == "`":
            if frame.kind == "tick":
                self._end_word(frame)
                self.stack.pop()
            else:
                self.stack.append(_Frame("tick"))
        elif char == "#" and at_word_start:
            end = text.find("\n", i)
            frame.word_start = None
            self.i = len(text) if end < 0 else end
            return
        elif at_word_start and text.startswith("[[", i) and text[i + 2 : i + 3] in (" ", "\t"):
            end = text.find("]]", i)
            test = text[i : len(text) if end < 0 else end]
            numeric = "a numeric test [[ ... -eq ... ]]" if _ARITH_TEST.search(test) else ""
            frame.word_start = None
            self.stack.append(_Frame("cond", arith=numeric))
            self.i += 2
            return
        elif frame.kind == "cond" and at_word_start and text.startswith("]]", i):
            frame.word_start = None
            self.stack.pop()
            self.i += 2
            return
        elif char in "<>":
            self._redirection(frame, char)
            return
        self.i += 1

    def _redirection(self, frame: _Frame, char: str) -> None:
        text, i = self.text, self.i
        start = frame.word_start
        if start is not None and start < i and not text[start:i].isdigit():
            self._end_word(frame)  # `x<file`: the operator starts a word of its own
            frame.word_start = i
        if text.startswith("<<<", i):
            self.i += 3  # a here-string: the word after it is an ordinary word
        elif text.startswith((">&", "<&"), i):
            self.i += 2
        elif char == "<" and (op := _HEREDOC_OP.match(text, i)):
            self.i = self._heredoc_operator(op.end(), strip_tabs=op.group(1) == "-")
        else:
            self.i += 1

    def _end_word(self, frame: _Frame) -> None:
        if frame.word_start is None:
            return
        word = self.text[frame.word_start : self.i]
        frame.word_start = None
        if not frame.words:  # command position: `case ... esac` hides `)` from $(...)
            if word == "case":
                frame.case_depth += 1
            elif word == "esac" and frame.case_depth:
                frame.case_depth -= 1
            if word in _KEYWORDS:
                return  # the next word is in command position again
        frame.words.append(word)

    def _end_command(self, frame: _Frame) -> None:
        self._end_word(frame)
        frame.words = []

    # --- here-documents --------------------------------------------------------------------

    def _heredoc_operator(self, j: int, *, strip_tabs: bool) -> int:
        text, delimiter, quoted = self.text, [], False
        while j < len(text) and text[j] not in _WORD_END:
            char = text[j]
            if char in "'\"":
                end = text.find(char, j + 1)
                end = len(text) if end < 0 else end
                delimiter.append(text[j + 1 : end])
                quoted, j = True, end + 1
            elif char == "\\":
                delimiter.append(text[j + 1 : j + 2])
                quoted, j = True, j + 2
            else:
                delimiter.append(char)
                j += 1
        self.pending.append(("".join(delimiter), strip_tabs, quoted))
        frame = self.stack[-1]
        frame.word_start = None
        frame.words.append("<<" + "".join(delimiter))
        return j

    def _start_heredocs(self, i: int) -> None:
        # Bodies follow the line that opened them, in order; a quoted one is plain text.
        while self.pending:
            delimiter, strip_tabs, literal = self.pending.pop(0)
            if not literal:
                self.stack.append(
                    _Frame("heredoc", delimiter=delimiter, strip_tabs=strip_tabs, body_start=i)
                )
                self.i = i
                return
            i = self._literal_body(i, delimiter, strip_tabs)
        self.i = i

    def _literal_body(self, i: int, delimiter: str, strip_tabs: bool) -> int:
        text, start = self.text, i
        while i < len(text):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            line = text[i:end]
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                self.literal_bodies.append(LiteralBody(start, i, delimiter, strip_tabs))
                return min(end + 1, len(text))
            j = i
            while j < end:
                match = TOKEN.match(text, j) if text[j] == "$" else None
                placeholder = parse_placeholder(match) if match else None
                if placeholder is not None and placeholder.end <= end:
                    self.sites.append(Site(placeholder, Context.HEREDOC_LITERAL, delimiter))
                    j = placeholder.end
                else:
                    j += 2 if text.startswith("$$", j) else 1
            i = end + 1
        self.literal_bodies.append(LiteralBody(start, len(text), delimiter, strip_tabs))
        return len(text)

    def _heredoc_ends_here(self) -> bool:
        # bash cuts a body at its delimiter line before it parses anything inside it
        text, i = self.text, self.i
        if i > 0 and text[i - 1] != "\n":
            return False
        for depth in range(len(self.stack) - 1, 0, -1):
            frame = self.stack[depth]
            if frame.kind != "heredoc":
                continue
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            line = text[i:end]
            if (line.lstrip("\t") if frame.strip_tabs else line) != frame.delimiter:
                return False
            del self.stack[depth:]
            self._start_heredocs(min(end + 1, len(text)))
            return True
        return False

    # --- $ ---------------------------------------------------------------------------------

    def _dollar(self, frame: _Frame) -> None:
        text, i, kind = self.text, self.i, frame.kind
        if kind not in ("sq", "ansi"):
            if text.startswith("$((", i):
                self.stack.append(_Frame("arith", close="))", arith="an arithmetic $((...))"))
                self.i += 3
                return
            if text.startswith("$(", i):
                self.stack.append(_Frame("cmd"))
                self.i += 2
                return
            if text.startswith("$[", i):
                self.stack.append(_Frame("arith", close="]", arith="an arithmetic $[...]"))
                self.i += 2
                return
            if kind in _COMMAND_KINDS and text.startswith("$'", i):
                self.stack.append(_Frame("ansi"))
                self.i += 2
                return
            if kind in _COMMAND_KINDS and text.startswith('$"', i):
                self.stack.append(_Frame("dq"))
                self.i += 2
                return
        match = TOKEN.match(text, i)
        placeholder = parse_placeholder(match) if match else None
        if placeholder is not None:
            self.sites.append(self._site(placeholder))
            self.i = placeholder.end
        elif kind not in ("sq", "ansi") and text.startswith("${", i):
            self.stack.append(_Frame("param", phase="start"))
            self.i += 2
        else:
            self.i += 2 if text.startswith("$$", i) else 1

    def _site(self, placeholder: Placeholder) -> Site:
        context = _CONTEXT_OF[self.stack[-1].kind]
        for frame in reversed(self.stack):
            if frame.kind in ("cmd", "tick"):
                break
            if frame.arith:
                return Site(placeholder, context, need=Need.INTEGER, where=frame.arith)
        command = self._command_frame()
        if command is None:
            return Site(placeholder, context)
        start = command.word_start
        prefix = "" if start is None else self.text[start : placeholder.start]
        need, where = _word_need(command, prefix)
        return Site(placeholder, context, need=need, where=where)

    def _command_frame(self) -> _Frame | None:
        # The command the placeholder's word belongs to: through quotes, not through ${...}
        for frame in reversed(self.stack):
            if frame.kind in _COMMAND_KINDS:
                return frame
            if frame.kind not in _QUOTE_KINDS:
                return None
        return None


def _word_need(frame: _Frame, prefix: str) -> tuple[Need, str]:
    """What the word being read (`prefix` so far) needs, from the command it belongs to."""
    words = [w for w in frame.words if not w.startswith("<<")]  # here-doc operators
    if frame.kind == "cond":  # `<` and `>` compare strings here
        return (Need.NAME, "[[ -v NAME ]]") if words[-1:] == ["-v"] else (Need.TEXT, "")
    arguments, target_next = [], False
    for word in words:
        if target_next:
            target_next = False
            continue
        redirection = _REDIRECTION.fullmatch(word)
        if redirection is not None:
            target_next = not redirection.group(1)  # an operator alone: its target follows
            continue
        arguments.append(word)
    if target_next or _REDIRECTION.fullmatch(prefix):
        return Need.TEXT, ""  # a redirection target: a file name or a here-string
    if prefix.startswith("[") and _SUBSCRIPT_OPEN.fullmatch(prefix):
        return Need.INTEGER, "an array subscript [...]=value"
    command_at = next((k for k, w in enumerate(arguments) if not _ASSIGNMENT.match(w)), None)
    if command_at is None:  # only assignments so far: this word may be one too
        if _SUBSCRIPT_OPEN.fullmatch(prefix):
            return Need.INTEGER, "an array subscript a[...]=value"
        return Need.TEXT, ""
    command, args = arguments[command_at], arguments[command_at + 1 :]
    last = args[-1] if args else ""
    if command == "let":
        return Need.INTEGER, "let"
    if command in _DECLARE:
        if _SUBSCRIPT_OPEN.fullmatch(prefix):
            return Need.INTEGER, f"an array subscript in {command}"
        if "=" in prefix:
            options = "".join(a[1:] for a in args if a[:1] in "-+")
            return (Need.INTEGER, f"{command} -i NAME=value") if "i" in options else (Need.TEXT, "")
        if prefix[:1] in ("-", "+"):
            return Need.TEXT, ""
        return Need.NAME, f"{command} NAME"
    if command in _NAME_ARGUMENTS and not prefix.startswith("-"):
        if last in _NAME_ARGUMENTS[command]:
            return Need.TEXT, ""  # the value of an option such as read -p PROMPT
        return Need.NAME, f"{command} NAME"
    if (command, last) in (("printf", "-v"), ("test", "-v"), ("[", "-v"), ("wait", "-p")):
        return Need.NAME, f"{command} {last} NAME"
    if command == "getopts" and len(args) == 1:
        return Need.NAME, "getopts OPTSTRING NAME"
    return Need.TEXT, ""
