-- skyc for Neovim (0.9 or later): the `sky` filetype for *.sky files and the skyc language
-- server (`skyc lsp`: diagnostics, hover, completion, go to definition).
--
-- Copy this file to ~/.config/nvim/lua/skyc.lua and call one of these from init.lua:
--
--   require("skyc").setup()            -- Neovim's own client (vim.lsp.start)
--   require("skyc").setup_lspconfig()  -- nvim-lspconfig, as a custom server
--
-- Both take an optional table; `cmd` replaces { "skyc", "lsp" } (e.g. an absolute path), and
-- setup_lspconfig passes the rest to lspconfig's setup (on_attach, capabilities, …).

local M = {}

M.cmd = { "skyc", "lsp" }
-- The project root is the nearest directory holding sky.toml (else the repository).
M.root_markers = { "sky.toml", ".git" }

local function filetype()
  vim.filetype.add({ extension = { sky = "sky" } })
  vim.api.nvim_create_autocmd("FileType", {
    group = vim.api.nvim_create_augroup("skyc_filetype", { clear = true }),
    pattern = "sky",
    callback = function(args)
      local bo = vim.bo[args.buf]
      bo.commentstring = "# %s"
      bo.comments = ":#"
      bo.expandtab = true
      bo.shiftwidth = 4
      bo.softtabstop = 4
      -- Starlark is Python's syntax: tree-sitter's starlark parser when it is installed
      -- (:TSInstall starlark), else Vim's Python highlighting and indentation. The syntax is
      -- set once every FileType handler has run (the built-in one sets it to "sky").
      pcall(vim.treesitter.start, args.buf, "starlark")
      vim.schedule(function()
        if vim.api.nvim_buf_is_valid(args.buf) and not vim.treesitter.highlighter.active[args.buf] then
          vim.bo[args.buf].syntax = "python"
        end
      end)
      vim.api.nvim_buf_call(args.buf, function()
        vim.cmd("runtime! indent/python.vim")
      end)
    end,
  })
end

local function root_dir(buf)
  local markers = M.root_markers
  if vim.fs.root then
    return vim.fs.root(buf, markers)
  end
  local file = vim.api.nvim_buf_get_name(buf)
  local found = vim.fs.find(markers, { upward = true, path = vim.fs.dirname(file) })[1]
  return found and vim.fs.dirname(found) or nil
end

--- Registers the filetype and starts `skyc lsp` with vim.lsp.start for every sky buffer
--- (one server per project root).
function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or M.cmd
  filetype()
  vim.api.nvim_create_autocmd("FileType", {
    group = vim.api.nvim_create_augroup("skyc_lsp", { clear = true }),
    pattern = "sky",
    callback = function(args)
      if vim.fn.executable(cmd[1]) ~= 1 then
        vim.notify_once(
          ("skyc: cannot find %q, so there is no language server; install skyc "
            .. "(cargo install --locked --path compiler/skyc) or pass cmd to setup()"):format(cmd[1]),
          vim.log.levels.WARN
        )
        return
      end
      local file = vim.api.nvim_buf_get_name(args.buf)
      vim.lsp.start({
        name = "skyc",
        cmd = cmd,
        root_dir = root_dir(args.buf) or vim.fs.dirname(file),
      }, { bufnr = args.buf })
    end,
  })
end

--- Registers the filetype and skyc as a custom server of nvim-lspconfig, then sets it up.
function M.setup_lspconfig(opts)
  opts = vim.deepcopy(opts or {})
  filetype()
  local configs = require("lspconfig.configs")
  local util = require("lspconfig.util")
  if not configs.skyc then
    configs.skyc = {
      default_config = {
        cmd = M.cmd,
        filetypes = { "sky" },
        root_dir = util.root_pattern((table.unpack or unpack)(M.root_markers)),
        single_file_support = true,
      },
      docs = {
        description = "skyc lsp: the language server of skyc, for .sky files (typed Starlark "
          .. "that renders Kubernetes manifests).",
      },
    }
  end
  require("lspconfig").skyc.setup(opts)
end

return M
