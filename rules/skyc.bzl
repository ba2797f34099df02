"""Bazel rules for skyc: render and check `.sky` files as ordinary, cacheable build actions.

skyc evaluates hermetically (no file outside the declared inputs, no environment, clock,
network or randomness), so each action's output is a function of its inputs: Bazel can cache it
and run it on remote executors. One action per entry file spreads a large repository's
rendering over as many machines as it has entry files.

    load("//rules:skyc.bzl", "sky_library", "sky_render", "sky_check_test")   # or "//:skyc.bzl" here

`skyc deps ENTRY` lists the files an entry loads (`gen_build.py` writes the targets from it).
"""

SkyInfo = provider(
    doc = "The .sky sources a target makes available to `load()`, transitively.",
    fields = {"srcs": "depset of .sky files"},
)

def _transitive_srcs(srcs, deps):
    return depset(srcs, transitive = [d[SkyInfo].srcs for d in deps])

def _sky_library_impl(ctx):
    srcs = _transitive_srcs(ctx.files.srcs, ctx.attr.deps)
    return [SkyInfo(srcs = srcs), DefaultInfo(files = depset(ctx.files.srcs))]

sky_library = rule(
    implementation = _sky_library_impl,
    doc = "Starlark files other .sky files load.",
    attrs = {
        "srcs": attr.label_list(allow_files = [".sky"]),
        "deps": attr.label_list(providers = [SkyInfo]),
    },
)

def _common_args(ctx):
    args = ctx.actions.args()
    for k, v in sorted(ctx.attr.vars.items()):
        args.add("--var", "%s=%s" % (k, v))
    return args

_COMMON_ATTRS = {
    "entry": attr.label(allow_single_file = [".sky"], mandatory = True),
    "deps": attr.label_list(providers = [SkyInfo]),
    # sky.toml of the project: its root, limits, lint levels and declared variables.
    "config": attr.label(allow_single_file = ["sky.toml"]),
    "vars": attr.string_dict(doc = "`ctx.vars` values (--var KEY=VALUE)."),
    "skyc": attr.label(
        # The binary next to this file, wherever the rules are copied to.
        default = Label(":skyc"),
        executable = True,
        cfg = "exec",
    ),
}

def _inputs(ctx):
    direct = [ctx.file.entry] + ([ctx.file.config] if ctx.file.config else [])
    return _transitive_srcs(direct, ctx.attr.deps)

def _sky_render_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + "." + ctx.attr.format)
    args = _common_args(ctx)
    args.add("render", ctx.file.entry)
    args.add("--format", ctx.attr.format)
    ctx.actions.run_shell(
        inputs = _inputs(ctx),
        tools = [ctx.executable.skyc],
        outputs = [out],
        # skyc writes the objects to stdout; diagnostics go to stderr and fail the action.
        command = '"$1" "${@:2}" > "%s"' % out.path,
        arguments = [ctx.executable.skyc.path, args],
        mnemonic = "SkycRender",
        progress_message = "Rendering %{input}",
    )
    return [DefaultInfo(files = depset([out]))]

sky_render = rule(
    implementation = _sky_render_impl,
    doc = "Renders one entry file to NAME.yaml (or NAME.json).",
    attrs = dict(_COMMON_ATTRS, format = attr.string(default = "yaml", values = ["yaml", "json"])),
)

def _sky_check_test_impl(ctx):
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    vars = " ".join(["--var '%s=%s'" % (k, v) for k, v in sorted(ctx.attr.vars.items())])
    ctx.actions.write(
        script,
        "#!/bin/sh\nexec %s check --no-cache %s %s\n" % (
            ctx.executable.skyc.short_path,
            vars,
            ctx.file.entry.short_path,
        ),
        is_executable = True,
    )
    runfiles = ctx.runfiles(transitive_files = _inputs(ctx)).merge(
        ctx.attr.skyc[DefaultInfo].default_runfiles,
    )
    return [DefaultInfo(executable = script, runfiles = runfiles)]

sky_check_test = rule(
    implementation = _sky_check_test_impl,
    doc = "`skyc check` of one entry file (lint and policies included) as a test.",
    attrs = _COMMON_ATTRS,
    test = True,
)
