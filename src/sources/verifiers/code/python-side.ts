/**
 * The Python programs of separated verification (see `separated.ts` for the design):
 *
 * - `PLANNER_PY` reads test suites and turns each into a plan. It runs in a sandbox of its own,
 *   where no candidate program ever runs: it executes the tests' own code (imports, helpers,
 *   loops, random inputs, expected values) for real, with the program under test replaced by
 *   symbols, and splits every `assert` into what only the program can answer (calls into it,
 *   rendered as Python source with their arguments as literals: "steps") and what decides the
 *   verdict (an expression tree over the steps' values and constants, evaluated by the host, or
 *   a trusted test helper applied to the values, evaluated in a third sandbox). A suite it cannot
 *   split is reported as such, with the reason, and runs the old way (in-sandbox).
 * - `RUNNER_PY` runs in the candidate's sandbox: it loads the program, evaluates the steps in
 *   order and writes each value, as plain data only, on fd 3. It holds no expected value and
 *   decides nothing: whatever the program does to it (patching builtins, walking frames, writing
 *   to fd 3 itself) only changes the values the host receives, which the program could have
 *   returned anyway.
 * - `POST_PY` evaluates trusted test helpers on the values (a checker such as HumanEval's
 *   `poly(xs, x)`), in a sandbox without the program.
 *
 * Values cross as tagged JSON: strings as JSON strings, `true`/`false`/`null`, and
 * `["i","12"]` int, `["f","1.5"]` float, `["c",re,im]`, `["l",...]` list, `["t",...]` tuple,
 * `["s",...]` set, `["fs",...]` frozenset, `["d",[k,v],...]` dict, `["b",hex]` bytes,
 * `["ba",hex]` bytearray. Only those exact types cross (no subclass, no object with its own
 * `__eq__`): anything else is "not plain data" and fails the check that reads it.
 */

/** Encoding and decoding plain values (shared by every program below). */
const VALUES_PY = String.raw`
from _json import encode_basestring_ascii as _rlxf_q
class _RlxfUnplain(Exception):
    pass
def _rlxf_encoder():
    _type = type
    _str, _int, _float, _complex, _bool = str, int, float, complex, bool
    _list, _tuple, _set, _frozenset, _dict, _bytes, _bytearray = list, tuple, set, frozenset, dict, bytes, bytearray
    _none = type(None)
    int_repr, float_repr, str_str, int_format = int.__repr__, float.__repr__, str.__str__, int.__format__
    bytes_hex, bytearray_hex, dict_items = bytes.hex, bytearray.hex, dict.items
    _issubclass = issubclass
    tags = {_list: '["l"', _tuple: '["t"', _set: '["s"', _frozenset: '["fs"'}
    iters = {_list: list.__iter__, _tuple: tuple.__iter__, _set: set.__iter__, _frozenset: frozenset.__iter__}
    bases = ((_int, "i"), (_float, "f"), (_str, "s"), (_bytes, "b"), (_bytearray, "ba"), (_list, "l"), (_tuple, "t"), (_dict, "d"), (_set, "s"), (_frozenset, "fs"))
    def enc(v, limit=2000000):
        out = []
        count = [0]
        def write_int(v):
            try:
                out.append('["i","' + int_repr(v) + '"]')
            except ValueError:
                # past Python's limit on decimal digits: in hexadecimal, which has none
                out.append('["ix","' + int_format(v, "x") + '"]')
        def go(v, d):
            count[0] += 1
            if count[0] > limit or d > 200:
                raise _RlxfUnplain("a value too large or too deeply nested")
            t = _type(v)
            if t is _str:
                out.append(_rlxf_q(v))
            elif t is _bool:
                out.append("true" if v else "false")
            elif t is _none:
                out.append("null")
            elif t is _int:
                write_int(v)
            elif t is _float:
                out.append('["f","' + float_repr(v) + '"]')
            elif t is _complex:
                out.append('["c","' + float_repr(v.real) + '","' + float_repr(v.imag) + '"]')
            elif t is _list or t is _tuple or t is _set or t is _frozenset:
                out.append(tags[t])
                for x in v:
                    out.append(",")
                    go(x, d + 1)
                out.append("]")
            elif t is _dict:
                out.append('["d"')
                for k, x in v.items():
                    out.append(",[")
                    go(k, d + 1)
                    out.append(",")
                    go(x, d + 1)
                    out.append("]")
                out.append("]")
            elif t is _bytes:
                out.append('["b","' + v.hex() + '"]')
            elif t is _bytearray:
                out.append('["ba","' + v.hex() + '"]')
            else:
                # A subclass of a plain type is written as the data it holds, read with the base
                # type's own methods: what it overrides (__eq__, __sub__, __abs__...) never runs here.
                for base, tag in bases:
                    if _issubclass(t, base):
                        go_as(base, tag, v, d)
                        return
                raise _RlxfUnplain("an object of type " + _str(t.__name__))
        def go_as(base, tag, v, d):
            if base is _int:
                write_int(v)
            elif base is _float:
                out.append('["f","' + float_repr(v) + '"]')
            elif base is _str:
                out.append(_rlxf_q(str_str(v)))
            elif base is _bytes or base is _bytearray:
                out.append('["' + tag + '","' + bytes_hex(v) + '"]' if base is _bytes else '["ba","' + bytearray_hex(v) + '"]')
            elif base is _dict:
                out.append('["d"')
                for k, x in dict_items(v):
                    out.append(",[")
                    go(k, d + 1)
                    out.append(",")
                    go(x, d + 1)
                    out.append("]")
                out.append("]")
            else:
                out.append(tags[base])
                for x in iters[base](v):
                    out.append(",")
                    go(x, d + 1)
                out.append("]")
        go(v, 0)
        return "".join(out)
    return enc
_rlxf_enc = _rlxf_encoder()
def _rlxf_dec(x):
    if x is None or x is True or x is False or type(x) is str:
        return x
    tag = x[0]
    if tag == "i":
        return int(x[1])
    if tag == "ix":
        return int(x[1], 16)
    if tag == "f":
        return float(x[1])
    if tag == "c":
        return complex(float(x[1]), float(x[2]))
    if tag == "l":
        return [_rlxf_dec(y) for y in x[1:]]
    if tag == "t":
        return tuple(_rlxf_dec(y) for y in x[1:])
    if tag == "s":
        return set(_rlxf_dec(y) for y in x[1:])
    if tag == "fs":
        return frozenset(_rlxf_dec(y) for y in x[1:])
    if tag == "d":
        return dict((_rlxf_dec(k), _rlxf_dec(v)) for k, v in x[1:])
    if tag == "b":
        return bytes.fromhex(x[1])
    if tag == "ba":
        return bytearray.fromhex(x[1])
    raise ValueError("unknown value tag %r" % (tag,))
`;

/**
 * The planner: `/input/suites.json` in, one JSON plan a line on fd 3 out. A suite is separable
 * when each statement (at the top of a test, or in a test function it calls with the program,
 * such as HumanEval's `check(candidate)`) is one of:
 *
 * - `assert E[, msg]`, where E combines calls into the program (the entry point or `candidate`,
 *   names the tests do not define, methods and items of what they return, and builtins such as
 *   `tuple`, `sorted`, `len` applied to them; arguments the tests compute are passed as
 *   literals) with values the tests compute, through `== != < <= > >= in is`, `not and or`,
 *   `+ - * /`, `abs`, `math.fabs`, `math.isclose`, `len`, `tuple`, `list`, `set`, `sorted`,
 *   `bool` (evaluated on the host) or any other function of the tests (a post-check);
 * - assignments (of the tests' own values, or of one call into the program), imports,
 *   definitions, `for` over the tests' own values, `if` on them, any statement that does not
 *   involve the program;
 * - a call into the program for its effect (it must not raise); a list the tests pass by name is
 *   read back from the program afterwards;
 * - `try:` one call into the program [`assert False`] `except E: <nothing of the program>`.
 *
 * Anything else (a loop over the program's values, `with`, a test helper that calls the program
 * itself, an argument that is not plain data, an assertion that calls a builtin without the
 * program: it may mean the program's function of that name) makes the suite unplannable, with
 * the line and the reason.
 */
export const PLANNER_PY = String.raw`
import ast, builtins, copy, json, math, os, random, signal, sys, types
` + VALUES_PY + String.raw`
# BaseException: the tests' own "except Exception" does not swallow them.
class Unplannable(BaseException):
    pass
class _Touched(BaseException):
    pass
class _Return(BaseException):
    pass
class _NotPlain(Exception):
    pass
def _touch(*a, **k):
    raise _Touched()
class _Symbol:
    """Stands for the program (or a value only the program can give) while the test's own code runs."""
    __slots__ = ()
for _m in ("__getattr__", "__call__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__", "__len__",
           "__iter__", "__getitem__", "__contains__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
           "__truediv__", "__rtruediv__", "__floordiv__", "__mod__", "__pow__", "__neg__", "__abs__", "__index__", "__int__",
           "__float__", "__str__", "__repr__", "__format__", "__enter__"):
    setattr(_Symbol, _m, _touch)
SYMBOL = _Symbol()
MUTABLE = (list, dict, set, bytearray)
LIMIT_STEPS = 20000
LIMIT_PLAN_BYTES = 4 * 1024 * 1024
FOLD = {id(getattr(builtins, n)) for n in ("list", "tuple", "set", "frozenset", "sorted", "len", "str", "repr", "int", "float", "bool",
        "round", "abs", "min", "max", "sum", "dict", "any", "all", "isinstance", "type", "ord", "chr", "hash")}
HOST_FN = {id(len): "len", id(tuple): "tuple", id(list): "list", id(set): "set", id(frozenset): "frozenset", id(sorted): "sorted", id(bool): "bool"}
CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}

def lit(v, d=0):
    """Python source that rebuilds a plain value without looking up any name."""
    if d > 100:
        raise Unplannable("a value nested too deeply to carry")
    t = type(v)
    if v is None or t is bool or t is str or t is bytes:
        return repr(v)
    if t is int:
        try:
            return repr(v)
        except ValueError:
            return ("-" if v < 0 else "") + "0x" + format(abs(v), "x")
    if t is float:
        if v != v:
            return "(1e999-1e999)"
        if v in (float("inf"), float("-inf")):
            return "1e999" if v > 0 else "(-1e999)"
        return repr(v)
    if t is complex:
        if all(math.isfinite(x) for x in (v.real, v.imag)):
            return repr(v)
        raise Unplannable("a complex number with an infinite part")
    if t is list:
        return "[" + ", ".join(lit(x, d + 1) for x in v) + "]"
    if t is tuple:
        return "(" + "".join(lit(x, d + 1) + ", " for x in v) + ")"
    if t is set:
        return "{" + ", ".join(lit(x, d + 1) for x in v) + "}" if v else "{*()}"
    if t is dict:
        return "{" + ", ".join(lit(k, d + 1) + ": " + lit(x, d + 1) for k, x in v.items()) + "}"
    if t is frozenset:
        return "frozenset(" + lit(set(v), d + 1) + ")"
    if t is bytearray:
        return "bytearray(" + repr(bytes(v)) + ")"
    raise Unplannable("a value of type %s cannot be carried as plain data" % t.__name__)

def enc_const(v):
    try:
        return json.loads(_rlxf_enc(v))
    except _RlxfUnplain as e:
        raise _NotPlain(str(e))

def bound_inside(node):
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
    return names

def names_of(node):
    """The names a node mentions, and those it reads from outside itself (cached on the node)."""
    c = getattr(node, "_rlxf_names", None)
    if c is None:
        inner = bound_inside(node)
        names, loads = set(), set()
        for n in ast.walk(node):
            if isinstance(n, ast.Name):
                names.add(n.id)
                if isinstance(n.ctx, ast.Load) and n.id not in inner:
                    loads.add(n.id)
        c = (frozenset(names), frozenset(loads))
        node._rlxf_names = c
    return c

class Scope:
    def __init__(self, env, sym, depth=0):
        self.env = env
        self.sym = sym
        self.depth = depth

class Planner:
    def __init__(self, suite):
        self.entry = suite.get("entry")
        self.support = suite.get("support") or ""
        self.tests = suite["tests"]
        self.steps = []
        self.checks = []
        self.posts = []
        self.events = []
        self.prelude = []
        self.program_names = set()
        self.functions = {}
        self.g = {"__name__": "__rlxf_tests__", "__builtins__": builtins}
        self.lines = []
        self.test = 0
        self.at = 0

    # -- dependence ---------------------------------------------------------
    def dep(self, node, sc):
        names, loads = names_of(node)
        for n in names:
            if n in sc.sym:
                return True
        for n in loads:
            if n not in sc.env and not hasattr(builtins, n):
                return True
        return False

    def evaluate(self, node, sc):
        try:
            code = compile(ast.fix_missing_locations(ast.Expression(node)), "<test>", "eval")
            return eval(code, sc.env)
        except _Touched:
            raise Unplannable("the tests reach the program through code the planner cannot follow (line %d)" % getattr(node, "lineno", 0))
        except (Unplannable, _Return):
            raise
        except Exception as e:
            raise Unplannable("the tests' own code raised %s: %s (line %d)" % (type(e).__name__, e, getattr(node, "lineno", 0)))

    def run(self, stmt, sc):
        try:
            exec(compile(ast.fix_missing_locations(ast.Module([stmt], [])), "<test>", "exec"), sc.env)
        except _Touched:
            raise Unplannable("the tests reach the program through code the planner cannot follow (line %d)" % stmt.lineno)
        except Exception as e:
            raise Unplannable("the tests' own code raised %s: %s (line %d)" % (type(e).__name__, e, stmt.lineno))

    # -- steps (what runs in the program's sandbox) -------------------------
    def step(self, src):
        if len(self.steps) >= LIMIT_STEPS:
            raise Unplannable("more than %d calls into the program" % LIMIT_STEPS)
        k = len(self.steps)
        self.steps.append([k, src, self.at])
        self.events.append(["s", k])
        return k

    def leafable(self, n, sc):
        if not self.dep(n, sc):
            return False
        if isinstance(n, ast.Name):
            return True
        if isinstance(n, ast.Call):
            if self.dep(n.func, sc):
                if not self.leafable(n.func, sc):
                    return False
            elif not (id(self.evaluate(n.func, sc)) in FOLD):
                return False
            args = [a.value if isinstance(a, ast.Starred) else a for a in n.args] + [k.value for k in n.keywords]
            return all(self.arg_ok(a, sc) for a in args)
        if isinstance(n, ast.Attribute):
            return self.leafable(n.value, sc)
        if isinstance(n, ast.Subscript):
            return self.leafable(n.value, sc) and self.arg_ok(n.slice, sc)
        return False

    def arg_ok(self, a, sc):
        if isinstance(a, ast.Slice):
            return all(x is None or self.arg_ok(x, sc) for x in (a.lower, a.upper, a.step))
        if not self.dep(a, sc):
            try:
                lit(self.evaluate(a, sc))
                return True
            except Unplannable:
                return False
        return self.leafable(a, sc)

    def render(self, n, sc):
        """Source of a leaf, evaluated in the program's namespace in its sandbox."""
        if isinstance(n, ast.Name):
            if n.id in sc.sym:
                return sc.sym[n.id]
            self.program_names.add(n.id)
            return n.id
        if isinstance(n, ast.Call):
            if self.dep(n.func, sc):
                f = self.render(n.func, sc)
            else:
                f = "__rlxf_b." + self.evaluate(n.func, sc).__name__
            parts = []
            for a in n.args:
                parts.append("*" + self.render_arg(a.value, sc) if isinstance(a, ast.Starred) else self.render_arg(a, sc))
            for k in n.keywords:
                parts.append(("**" if k.arg is None else k.arg + "=") + self.render_arg(k.value, sc))
            return f + "(" + ", ".join(parts) + ")"
        if isinstance(n, ast.Attribute):
            return "(" + self.render(n.value, sc) + ")." + n.attr
        if isinstance(n, ast.Subscript):
            return "(" + self.render(n.value, sc) + ")[" + self.render_arg(n.slice, sc) + "]"
        raise Unplannable("cannot evaluate %s in the program's sandbox" % type(n).__name__)

    def render_arg(self, a, sc):
        if isinstance(a, ast.Slice):
            return ":".join("" if x is None else self.render_arg(x, sc) for x in (a.lower, a.upper)) + ("" if a.step is None else ":" + self.render_arg(a.step, sc))
        if self.dep(a, sc):
            return self.render(a, sc)
        v = self.evaluate(a, sc)
        if isinstance(a, ast.Name) and isinstance(v, MUTABLE):
            # The program gets the test's own object and may change it: from here on the name is the program's copy.
            k = self.step(lit(v))
            ref = "__rlxf_s[%d]" % k
            sc.sym[a.id] = ref
            sc.env[a.id] = SYMBOL
            return ref
        return lit(v)

    def leaf(self, n, sc):
        return ["s", self.step(self.render(n, sc))]

    # -- the verdict (evaluated outside the program's sandbox) ---------------
    def decompose(self, n, sc):
        if not self.dep(n, sc):
            return ["k", enc_const(self.evaluate(n, sc))]
        if self.leafable(n, sc):
            return self.leaf(n, sc)
        if isinstance(n, ast.Compare):
            ops = [CMP[type(o)] for o in n.ops]
            items = [n.left] + list(n.comparators)
            for i, o in enumerate(ops):
                if o in ("is", "is not"):
                    sides = [items[i], items[i + 1]]
                    consts = [s for s in sides if not self.dep(s, sc)]
                    if not consts or not any(self.evaluate(s, sc) is v for s in consts for v in (None, True, False)):
                        return self.post(n, sc)
            return ["cmp", ops, [self.decompose(x, sc) for x in items]]
        if isinstance(n, ast.BoolOp):
            return ["and" if isinstance(n.op, ast.And) else "or", [self.decompose(x, sc) for x in n.values]]
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.Not, ast.USub, ast.UAdd)):
            return [{ast.Not: "not", ast.USub: "neg", ast.UAdd: "pos"}[type(n.op)], self.decompose(n.operand, sc)]
        if isinstance(n, ast.BinOp) and type(n.op) in BIN:
            return ["bin", BIN[type(n.op)], self.decompose(n.left, sc), self.decompose(n.right, sc)]
        if isinstance(n, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in n.elts):
            return ["tuple" if isinstance(n, ast.Tuple) else "list", [self.decompose(x, sc) for x in n.elts]]
        if isinstance(n, ast.Call) and not self.dep(n.func, sc) and not any(isinstance(a, ast.Starred) for a in n.args):
            f = self.evaluate(n.func, sc)
            kw = {k.arg: k.value for k in n.keywords}
            if (f is abs or f is math.fabs) and len(n.args) == 1 and not kw:
                return ["abs" if f is abs else "fabs", self.decompose(n.args[0], sc)]
            if f is math.isclose and len(n.args) == 2 and set(kw) <= {"rel_tol", "abs_tol"}:
                tol = [self.decompose(kw[k], sc) if k in kw else ["k", ["f", d]] for k, d in (("rel_tol", "1e-09"), ("abs_tol", "0.0"))]
                return ["isclose", self.decompose(n.args[0], sc), self.decompose(n.args[1], sc), tol[0], tol[1]]
            if id(f) in HOST_FN and len(n.args) == 1 and not kw:
                return ["fn", HOST_FN[id(f)], self.decompose(n.args[0], sc)]
        return self.post(n, sc)

    def post(self, n, sc):
        """A trusted piece of test code over the program's values: evaluated in a sandbox without the program."""
        slots = []
        inner = set()
        planner = self
        def carry(node):
            v = planner.evaluate(node, sc)
            try:
                return ast.parse(lit(v), mode="eval").body
            except Unplannable:
                pass
            if isinstance(v, types.ModuleType):
                return ast.parse("__import__(%r, fromlist=['_'])" % v.__name__, mode="eval").body
            if isinstance(node, ast.Name) and (planner.g.get(node.id, planner) is v or getattr(builtins, node.id, planner) is v):
                return node
            if isinstance(node, ast.Attribute):
                return ast.Attribute(value=carry(node.value), attr=node.attr, ctx=ast.Load())
            if isinstance(node, ast.Lambda):
                free = {x.id for x in ast.walk(node) if isinstance(x, ast.Name)} - bound_inside(node)
                if all(planner.g.get(x, planner) is sc.env.get(x, planner) or hasattr(builtins, x) for x in free):
                    return node
            raise Unplannable("line %d: a value the post-check needs (%s) is not plain data" % (getattr(node, "lineno", 0), type(v).__name__))
        class T(ast.NodeTransformer):
            def visit(self, node):
                if not isinstance(node, ast.expr):
                    return self.generic_visit(node)
                if not planner.dep(node, sc):
                    return carry(node)
                if planner.leafable(node, sc):
                    names = {x.id for x in ast.walk(node) if isinstance(x, ast.Name)}
                    if names & inner:
                        raise Unplannable("line %d: the program is called with a value bound inside the assertion" % getattr(node, "lineno", 0))
                    k = planner.step(planner.render(node, sc))
                    slots.append(k)
                    return ast.Subscript(value=ast.Name(id="__rlxf_v", ctx=ast.Load()), slice=ast.Constant(k), ctx=ast.Load())
                if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                    inner.update(bound_inside(node))
                # A call into the program (or into what it returned) with what only the tests can build: it cannot
                # run in the program's sandbox (the arguments are not plain data), nor here (the program is not here).
                target = node.func if isinstance(node, ast.Call) else node.value if isinstance(node, (ast.Attribute, ast.Subscript)) else None
                if target is not None and planner.dep(target, sc) and (planner.leafable(target, sc) or isinstance(target, ast.Name)):
                    raise Unplannable("line %d: calls into the program with values that are not plain data" % getattr(node, "lineno", 0))
                return self.generic_visit(node)
        tree = T().visit(copy.deepcopy(n))
        src = ast.unparse(tree)
        self.posts.append({"src": src, "slots": slots})
        return ["p", len(self.posts) - 1]

    # -- statements ---------------------------------------------------------
    def line(self, node):
        lines = self.lines
        ln = getattr(node, "lineno", 0)
        return ln, (lines[ln - 1].strip() if 0 < ln <= len(lines) else "")

    def check(self, st, sc):
        ln, src = self.line(st)
        msg = None
        if st.msg is not None and not self.dep(st.msg, sc):
            try:
                msg = str(self.evaluate(st.msg, sc))
            except Unplannable:
                msg = None
        if not self.dep(st.test, sc):
            # An assertion that never looks at the program. One that calls a builtin may have meant a
            # function of the program that shadows it: leave such tests to the in-sandbox harness.
            for x in ast.walk(st.test):
                if isinstance(x, ast.Call) and isinstance(x.func, ast.Name) and x.func.id not in sc.env and hasattr(builtins, x.func.id):
                    raise Unplannable("line %d asserts on %s(...) without calling the program: it may mean a function of the program named like a builtin" % (ln, x.func.id))
            if self.evaluate(st.test, sc):
                return
            c = {"e": ["k", False], "line": ln, "source": src}
        else:
            mark = (len(self.steps), len(self.events), len(self.posts))
            test = st.test
            negate = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
            inner = test.operand if negate else test
            try:
                if self.leafable(inner, sc):
                    # "assert f(x)": the truth of the program's value, asked where the value lives.
                    e = ["s", self.step("__rlxf_b.bool(" + self.render(inner, sc) + ")")]
                    e = ["not", e] if negate else e
                else:
                    e = self.decompose(test, sc)
            except _NotPlain:
                # A constant that is not plain data: the whole assertion becomes a post-check.
                del self.steps[mark[0]:], self.events[mark[1]:], self.posts[mark[2]:]
                e = self.post(st.test, sc)
            c = {"e": e, "line": ln, "source": src}
        if msg is not None:
            c["msg"] = msg[:2000]
        self.checks.append(c)
        self.events.append(["c", len(self.checks) - 1])

    def expect_raise(self, st, sc):
        """try: <one call into the program> [assert False] / except E: <nothing of the program>: the call must raise an E."""
        why = "line %d: a Try statement the planner does not follow (one call into the program, then except clauses that do not involve it)" % st.lineno
        if st.finalbody or not st.handlers:
            raise Unplannable(why)
        body = [x for x in st.body if not isinstance(x, ast.Pass)]
        calls = [x for x in body if self.dep(x, sc)]
        if len(calls) != 1 or body[0] is not calls[0]:
            raise Unplannable(why)
        call = calls[0]
        value = call.value if isinstance(call, (ast.Expr, ast.Assign)) else None
        if value is None or not self.leafable(value, sc) or (isinstance(call, ast.Assign) and not all(isinstance(t, ast.Name) for t in call.targets)):
            raise Unplannable(why)
        def fails(x):
            if isinstance(x, ast.Assert) and not self.dep(x, sc):
                return not self.evaluate(x.test, sc)
            return isinstance(x, ast.Raise) and x.exc is not None and not self.dep(x.exc, sc)
        rest = body[1:] + list(st.orelse)
        if not all(fails(x) for x in rest):
            raise Unplannable(why)
        names = []
        for h in st.handlers:
            if any(self.dep(x, sc) for x in h.body) or (h.name and any(isinstance(n, ast.Name) and n.id == h.name for x in h.body for n in ast.walk(x))):
                raise Unplannable(why)
            kinds = [BaseException] if h.type is None else self.evaluate(h.type, sc)
            kinds = kinds if isinstance(kinds, tuple) else (kinds,)
            for k in kinds:
                if not (isinstance(k, type) and issubclass(k, BaseException)):
                    raise Unplannable(why)
                names.append(k.__name__)
        k = self.step(self.render(value, sc))
        self.events[-1] = ["x", k]
        ln, src = self.line(st)
        # required: a call that returns normally reaches a failing statement
        self.checks.append({"e": ["raises", k, names, bool(rest)], "line": call.lineno, "source": self.lines[call.lineno - 1].strip() if 0 < call.lineno <= len(self.lines) else src})
        self.events.append(["c", len(self.checks) - 1])
        for h in st.handlers:
            self.walk(h.body, sc)

    def inline(self, call, fn, sc):
        a = fn.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or call.keywords or any(isinstance(x, ast.Starred) for x in call.args):
            raise Unplannable("line %d: calls %s() with a signature the planner does not follow" % (call.lineno, fn.name))
        if len(call.args) > len(a.args) or sc.depth > 8:
            raise Unplannable("line %d: calls %s() in a way the planner does not follow" % (call.lineno, fn.name))
        env = dict(self.g)
        sym = {k: v for k, v in sc.sym.items() if k not in env or env[k] is SYMBOL}
        inner = Scope(env, sym, sc.depth + 1)
        defaults = [None] * (len(a.args) - len(a.defaults)) + list(a.defaults)
        for i, p in enumerate(a.args):
            if i < len(call.args):
                x = call.args[i]
                if self.dep(x, sc):
                    if isinstance(x, ast.Name) and x.id in sc.sym:
                        inner.sym[p.arg] = sc.sym[x.id]
                    elif self.leafable(x, sc):
                        inner.sym[p.arg] = "__rlxf_s[%d]" % self.step(self.render(x, sc))
                    else:
                        raise Unplannable("line %d: passes the program's value to %s() in a way the planner does not follow" % (call.lineno, fn.name))
                    env[p.arg] = SYMBOL
                else:
                    env[p.arg] = self.evaluate(x, sc)
            elif defaults[i] is not None:
                env[p.arg] = self.evaluate(defaults[i], sc)
            else:
                raise Unplannable("line %d: %s() is missing an argument" % (call.lineno, fn.name))
        try:
            self.walk(fn.body, inner)
        except _Return:
            pass

    def walk(self, body, sc):
        for st in body:
            self.at = st.lineno
            if isinstance(st, ast.Assert):
                self.check(st, sc)
            elif isinstance(st, ast.Expr):
                v = st.value
                if not self.dep(v, sc):
                    self.run(st, sc)
                    continue
                if isinstance(v, ast.Call) and not self.dep(v.func, sc):
                    f = self.evaluate(v.func, sc)
                    fn = self.functions.get(id(f))
                    if fn is not None:
                        self.inline(v, fn, sc)
                        continue
                if self.leafable(v, sc):
                    self.step(self.render(v, sc))
                else:
                    raise Unplannable("line %d: a statement the planner does not follow" % st.lineno)
            elif isinstance(st, (ast.Assign, ast.AnnAssign)):
                value = st.value
                targets = st.targets if isinstance(st, ast.Assign) else [st.target]
                if value is None or not self.dep(value, sc):
                    self.run(st, sc)
                    for t in targets:
                        for x in ast.walk(t):
                            if isinstance(x, ast.Name):
                                sc.sym.pop(x.id, None)
                    continue
                if len(targets) == 1 and isinstance(targets[0], ast.Name) and self.leafable(value, sc):
                    k = self.step(self.render(value, sc))
                    sc.sym[targets[0].id] = "__rlxf_s[%d]" % k
                    sc.env[targets[0].id] = SYMBOL
                else:
                    raise Unplannable("line %d: an assignment from the program the planner does not follow" % st.lineno)
            elif isinstance(st, ast.For) and not self.dep(st.iter, sc):
                if any(isinstance(x, (ast.Break, ast.Continue)) for x in ast.walk(st)) and any(self.dep(x, sc) for x in st.body):
                    raise Unplannable("line %d: a loop with break or continue around calls into the program" % st.lineno)
                if not any(self.dep(x, sc) for x in st.body):
                    self.run(st, sc)
                    continue
                items = self.evaluate(st.iter, sc)
                n = 0
                for item in items:
                    n += 1
                    if n > LIMIT_STEPS:
                        raise Unplannable("a loop of more than %d rounds" % LIMIT_STEPS)
                    sc.env["__rlxf_item"] = item
                    self.run(ast.copy_location(ast.Assign(targets=[st.target], value=ast.copy_location(ast.Name(id="__rlxf_item", ctx=ast.Load()), st)), st), sc)
                    for x in ast.walk(st.target):
                        if isinstance(x, ast.Name):
                            sc.sym.pop(x.id, None)
                    self.walk(st.body, sc)
                self.walk(st.orelse, sc)
            elif isinstance(st, ast.If) and not self.dep(st.test, sc):
                self.walk(st.body if self.evaluate(st.test, sc) else st.orelse, sc)
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.run(st, sc)
                self.functions[id(sc.env.get(st.name))] = st
                sc.sym.pop(st.name, None)
            elif isinstance(st, ast.Return):
                if st.value is not None and self.dep(st.value, sc):
                    raise Unplannable("line %d: returns the program's value" % st.lineno)
                raise _Return()
            elif isinstance(st, ast.Try) and self.dep(st, sc):
                self.expect_raise(st, sc)
            elif isinstance(st, ast.Pass):
                pass
            elif not self.dep(st, sc):
                if isinstance(st, (ast.Global, ast.Nonlocal, ast.Break, ast.Continue)):
                    raise Unplannable("line %d: %s" % (st.lineno, type(st).__name__.lower()))
                self.run(st, sc)
            else:
                raise Unplannable("line %d: a %s statement that involves the program" % (st.lineno, type(st).__name__))
            if sc.depth == 0 and not isinstance(st, ast.Assert):
                if not self.dep(st, sc) and not isinstance(st, (ast.Expr, ast.Return)):
                    self.prelude.append(ast.unparse(st))

    def plan(self):
        random.seed(0)
        if self.support:
            try:
                tree = ast.parse(self.support)
                exec(compile(tree, "<support>", "exec"), self.g)
                self.prelude.append(self.support)
                # A definition with no body (a docstring, pass or ...) is for the program to write: it is the program's.
                for st in tree.body:
                    if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and all(
                        isinstance(x, ast.Pass) or (isinstance(x, ast.Expr) and isinstance(x.value, ast.Constant)) for x in st.body
                    ):
                        self.g.pop(st.name, None)
            except Exception:
                self.g = {"__name__": "__rlxf_tests__", "__builtins__": builtins}
        top = Scope(self.g, {})
        if self.entry:
            top.sym[self.entry] = "__rlxf_c"
            self.g[self.entry] = SYMBOL
        tests = []
        for i, t in enumerate(self.tests):
            self.test = i
            self.lines = t.splitlines()
            self.events = []
            try:
                tree = ast.parse(t, "<test %d>" % i)
            except SyntaxError as e:
                raise Unplannable("test %d does not parse: %s" % (i + 1, e))
            self.walk(tree.body, top)
            tests.append(self.events)
        out = {"ok": True, "steps": self.steps, "checks": self.checks, "tests": tests, "posts": self.posts,
               "programNames": sorted(n for n in self.program_names if n != self.entry)}
        if self.posts:
            out["prelude"] = "\n".join(self.prelude)
        if len(json.dumps(out)) > LIMIT_PLAN_BYTES:
            raise Unplannable("the plan is larger than %d bytes" % LIMIT_PLAN_BYTES)
        return out

def _alarm(*_):
    raise Unplannable("planning took more than 5 s")

def main():
    chan = os.fdopen(3, "w")
    with open("/input/suites.json") as f:
        suites = json.load(f)["suites"]
    sys.stdout = sys.stderr = open(os.devnull, "w")
    sys.setrecursionlimit(3000)
    signal.signal(signal.SIGALRM, _alarm)
    for suite in suites:
        signal.setitimer(signal.ITIMER_REAL, 5)
        try:
            out = Planner(suite).plan()
        except Unplannable as e:
            out = {"ok": False, "reason": str(e)[:500]}
        except RecursionError:
            out = {"ok": False, "reason": "the tests nest too deeply to plan"}
        except MemoryError:
            out = {"ok": False, "reason": "planning ran out of memory"}
        except BaseException as e:
            out = {"ok": False, "reason": "planning failed: %s: %s" % (type(e).__name__, str(e)[:300])}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        chan.write(json.dumps(out) + "\n")
        chan.flush()
    chan.close()
    os._exit(0)

main()
`;

/**
 * The runner in the program's sandbox. Inputs: `/input/program.py`, `/input/steps.py`
 * (`ENTRY = name or None` and `STEPS = [(slot, source), ...]`). Output on fd 3, one JSON
 * object a line: `{"load":1}` or `{"load":0,"e":...}`, then `{"k":i,"v":value}` (or
 * `"opaque"` for a value that is not plain data, or `"e"`/`"m"`/`"tb"`/`"line"` for an
 * exception) for each step in order, then `{"done":1}`.
 */
export const RUNNER_PY = String.raw`
import sys, os, builtins as __rlxf_b
` + VALUES_PY + String.raw`
def _rlxf_main():
    write, compile_, eval_, exec_, open_ = os.write, compile, eval, exec, open
    str_, type_, len_ = str, type, len
    def emit(s):
        try:
            write(3, (s + "\n").encode("utf-8", "surrogatepass"))
        except OSError:
            pass
    def error(e):
        tb = ""
        line = 0
        try:
            import traceback
            frames = [fr for fr in traceback.extract_tb(e.__traceback__) if fr.filename == "<program>"]
            for fr in frames:
                line = fr.lineno or 0
            if isinstance(e, SyntaxError) and e.filename == "<program>" and e.lineno:
                line = e.lineno
            tb = ("Traceback (most recent call last):\n" if frames else "") + "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type_(e), e))
        except BaseException:
            pass
        try:
            name = str_(type_(e).__name__)
        except BaseException:
            name = "Exception"
        try:
            msg = str_(e)
        except BaseException:
            msg = ""
        try:
            mro = ",".join(_rlxf_q(str_(c.__name__)[:200]) for c in type_.__getattribute__(type_(e), "__mro__")[:50])
        except BaseException:
            mro = _rlxf_q(name[:200])
        return ',"e":%s,"m":%s,"tb":%s,"line":%d,"mro":[%s]' % (_rlxf_q(name[:200]), _rlxf_q(msg[:2000]), _rlxf_q(tb[-4000:]), line, mro)
    env = {}
    with open_("/input/steps.py") as f:
        exec_(f.read(), env)
    with open_("/input/program.py") as f:
        program = f.read()
    g = {"__name__": "__main__", "__builtins__": __rlxf_b}
    try:
        exec_(compile_(program, "<program>", "exec"), g)
    except BaseException as e:
        emit('{"load":0' + error(e) + "}")
        return
    emit('{"load":1}')
    entry = env["ENTRY"]
    if entry is not None:
        if entry in g:
            g["__rlxf_c"] = g[entry]
        else:
            def missing(*a, **k):
                raise NameError("name %r is not defined" % entry)
            g["__rlxf_c"] = missing
    slots = {}
    g["__rlxf_s"] = slots
    g["__rlxf_b"] = __rlxf_b
    for k, src in env["STEPS"]:
        try:
            v = eval_(compile_(src, "<test>", "eval"), g)
        except BaseException as e:
            emit('{"k":%d' % k + error(e) + "}")
            continue
        slots[k] = v
        try:
            emit('{"k":%d,"v":%s}' % (k, _rlxf_enc(v)))
        except _RlxfUnplain as e:
            emit('{"k":%d,"opaque":%s}' % (k, _rlxf_q(str_(e))))
        except BaseException as e:
            emit('{"k":%d,"opaque":%s}' % (k, _rlxf_q("a value that could not be written out")))
    emit('{"done":1}')
try:
    _rlxf_main()
finally:
    for _s in (sys.stdout, sys.stderr):
        try:
            _s.flush()
        except BaseException:
            pass
    os._exit(0)
`;

/**
 * Trusted test code over the program's values, without the program: `/input/post.json` holds
 * `prelude` (the tests' own definitions), `values` (slot → tagged value) and `posts`
 * (expressions over `__rlxf_v`). One JSON line per post on fd 3: `{"v":...}` or `{"e":...}`.
 */
export const POST_PY = String.raw`
import json, os, sys, builtins
` + VALUES_PY + String.raw`
def main():
    chan = os.fdopen(3, "w")
    with open("/input/post.json") as f:
        spec = json.load(f)
    sys.stdout = sys.stderr = open(os.devnull, "w")
    g = {"__name__": "__rlxf_tests__", "__builtins__": builtins}
    values = {int(k): _rlxf_dec(v) for k, v in spec["values"].items()}
    g["__rlxf_v"] = values
    try:
        exec(compile(spec["prelude"], "<tests>", "exec"), g)
        failed = None
    except BaseException as e:
        failed = "the tests' own definitions raised %s: %s" % (type(e).__name__, e)
    for src in spec["posts"]:
        if failed:
            out = {"e": "Error", "m": failed}
        else:
            try:
                v = eval(compile(src, "<check>", "eval"), g)
                out = {"v": json.loads(_rlxf_enc(v))}
            except _RlxfUnplain as e:
                out = {"e": "TypeError", "m": "the check gave %s, not plain data" % e}
            except BaseException as e:
                out = {"e": type(e).__name__, "m": str(e)[:2000]}
        chan.write(json.dumps(out) + "\n")
    chan.flush()
    os._exit(0)
main()
`;
