// The skyc extension: the `sky` language (grammar and language configuration come from
// package.json) and a client for the language server that `skyc lsp` runs over stdio.

import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import {
  Executable,
  LanguageClient,
  LanguageClientOptions,
} from "vscode-languageclient/node";

/** The subcommand of `skyc` that runs the language server on stdin/stdout. */
const SERVER_ARGS = ["lsp"];

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("skyc");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("skyc.restartServer", restart),
    vscode.commands.registerCommand("skyc.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("skyc.path")) {
        void restart();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart()),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

let restarting: Promise<void> = Promise.resolve();

/** Restarts are queued, so two quick setting changes never leave two servers running. */
function restart(): Promise<void> {
  restarting = restarting.then(async () => {
    await stop();
    await start();
  });
  return restarting;
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (e) {
      output.appendLine(`skyc: stopping the language server failed: ${message(e)}`);
    }
  }
}

async function start(): Promise<void> {
  const configured = vscode.workspace.getConfiguration("skyc").get<string>("path") || "skyc";
  const command = findExecutable(configured);
  if (!command) {
    reportMissing(configured);
    return;
  }
  const problem = await lspCommandProblem(command);
  if (problem !== undefined) {
    const text =
      `skyc: \`${command} lsp\` does not run (${problem}). Install a skyc that has the ` +
      `\`lsp\` command, or set "skyc.path" to one.`;
    output.appendLine(text);
    void vscode.window.showErrorMessage(text, "Open Settings", "Show Output").then(handleChoice);
    return;
  }
  output.appendLine(`skyc: starting ${command} ${SERVER_ARGS.join(" ")}`);
  // No `transport`: the client then speaks over stdin/stdout without appending `--stdio` to
  // the arguments, which `skyc lsp` does not take.
  const server: Executable = { command, args: SERVER_ARGS, options: { cwd: workspaceRoot() } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "sky" },
      { scheme: "untitled", language: "sky" },
    ],
    synchronize: {
      // A change to another file (a loaded module, sky.toml, a policy) can change the
      // diagnostics of an open one.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{*.sky,sky.toml}"),
    },
    outputChannel: output,
    traceOutputChannel: output,
  };
  // The id "skyc" makes the client read the `skyc.trace.server` setting.
  const starting = new LanguageClient("skyc", "skyc", server, clientOptions);
  client = starting;
  try {
    await starting.start();
  } catch (e) {
    // The client has shown its own error (with a button to this output channel).
    if (client === starting) {
      client = undefined;
    }
    output.appendLine(`skyc: the language server did not start: ${message(e)}`);
  }
}

/**
 * Why `command lsp` cannot run, or undefined when it can: an older skyc without the `lsp`
 * command, or a file that is not skyc, fails `lsp --help`. Checked before the client starts so
 * the user gets one message that says what to do instead of the client's restart attempts.
 */
function lspCommandProblem(command: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, [...SERVER_ARGS, "--help"], { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (!error) {
        resolve(undefined);
        return;
      }
      const firstLine = String(stderr).trim().split(/\r?\n/)[0];
      resolve(firstLine || error.message);
    });
  });
}

function reportMissing(configured: string): void {
  const text =
    `skyc: cannot find the skyc binary "${configured}", so there are no diagnostics, hover or ` +
    `completion (highlighting still works). Install it with ` +
    `\`cargo install --locked --path compiler/skyc\` from the skyc repository, or set ` +
    `"skyc.path" to the binary.`;
  output.appendLine(text);
  void vscode.window.showErrorMessage(text, "Open Settings", "Show Output").then(handleChoice);
}

function handleChoice(choice: string | undefined): void {
  if (choice === "Open Settings") {
    void vscode.commands.executeCommand("workbench.action.openSettings", "skyc.path");
  } else if (choice === "Show Output") {
    output.show(true);
  }
}

function workspaceRoot(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === "file" ? folder.uri.fsPath : undefined;
}

/**
 * The executable `configured` names: a path (absolute, `~/…`, or relative to the first
 * workspace folder) or a command looked up on PATH. Undefined when there is none, so the
 * user gets a clear message instead of the client's retries of a failing spawn.
 */
function findExecutable(configured: string): string | undefined {
  let name = configured.trim();
  if (name === "~" || name.startsWith("~/") || name.startsWith("~\\")) {
    name = path.join(os.homedir(), name.slice(1));
  }
  const extensions =
    process.platform === "win32"
      ? ["", ...(process.env.PATHEXT ?? ".EXE;.CMD;.BAT;.COM").split(";").filter((e) => e)]
      : [""];
  const candidates = (base: string) => extensions.map((ext) => base + ext);
  if (name.includes("/") || name.includes("\\")) {
    const base = path.isAbsolute(name) ? name : path.resolve(workspaceRoot() ?? process.cwd(), name);
    return candidates(base).find(isExecutable);
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    const found = candidates(path.join(dir, name)).find(isExecutable);
    if (found) {
      return found;
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (process.platform !== "win32") {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
