// Loads the firmware's TypeScript files under Node the way MakeCode sees them: one
// global scope shared by every file (namespaces, no modules). The files are
// transpiled with TypeScript and run in a vm context that holds stubs of the
// MakeCode APIs they call (bluetooth, pins, basic, ...), if any.
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const FIRMWARE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const VECTORS = path.resolve(FIRMWARE, "../../tests/firmware/vectors.json");

/**
 * The files as one script. MakeCode compiles all of a project's files as one program,
 * so a namespace's exports in one file are seen unqualified in another; TypeScript
 * resolves that only within one file, hence the files are joined before transpiling.
 */
export function transpile(files) {
    const source = files.map((file) => fs.readFileSync(path.join(FIRMWARE, file), "utf8")).join("\n");
    return ts.transpileModule(source, {
        fileName: files.join("+"),
        compilerOptions: { target: ts.ScriptTarget.ES2019, module: ts.ModuleKind.None },
    }).outputText;
}

/** A vm context holding `globals` (stubs of MakeCode's APIs) after running `files`. */
export function load(files, globals = {}) {
    const context = vm.createContext({ ...globals });
    // `namespace robotlab` compiles to `var robotlab`: a global of the context.
    vm.runInContext(transpile(files), context, { filename: files.join("+") });
    return context;
}

export function readVectors() {
    return JSON.parse(fs.readFileSync(VECTORS, "utf8"));
}

export const fromHex = (hex) => Array.from(Buffer.from(hex, "hex"));
export const toHex = (bytes) => Buffer.from(bytes).toString("hex");
