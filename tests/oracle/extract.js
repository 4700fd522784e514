#!/usr/bin/env node
// The npm oracle: extract tarballs exactly as npm does, with npm's own bundled pacote (which
// drives node-tar with pacote's options: strip 1, its filter, its modes), and print what was
// written. Used by tests/npm_oracle.rs and bench/npm-oracle-mutants.sh.
//
// Usage: node extract.js < list   (one tarball path per line)
// Output: one JSON line per tarball, in input order:
//   {"file": PATH, "ok": true, "entries": [{"path", "type", "mode", "sha256"?, "link"?}]}
//   {"file": PATH, "ok": false, "error": "..."}
// `path` is relative to the package directory; directories are listed with type "dir".
//
// npm's pacote is found with `npm root -g` (or $VETTED_NPM_ROOT, the directory holding `npm`).
'use strict'
const { execFileSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const npmRoot = process.env.VETTED_NPM_ROOT ||
  execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim()
const pacote = require(path.join(npmRoot, 'npm', 'node_modules', 'pacote'))

// npm runs with the user's umask; the manifest records modes for the usual 0o022.
process.umask(0o022)

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vetted-oracle-'))
const cache = path.join(work, 'cache')

function walk (dir, rel, out) {
  for (const name of fs.readdirSync(dir).sort()) {
    const abs = path.join(dir, name)
    const r = rel ? rel + '/' + name : name
    const st = fs.lstatSync(abs)
    const mode = st.mode & 0o7777
    if (st.isSymbolicLink()) {
      out.push({ path: r, type: 'symlink', mode, link: fs.readlinkSync(abs) })
    } else if (st.isDirectory()) {
      out.push({ path: r, type: 'dir', mode })
      walk(abs, r, out)
    } else if (st.isFile()) {
      const sha256 = crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex')
      out.push({ path: r, type: 'file', mode, sha256, nlink: st.nlink })
    } else {
      out.push({ path: r, type: 'other', mode })
    }
  }
  return out
}

// node-tar can throw outside the extraction's promise (e.g. fs refusing a path holding a NUL):
// npm would crash there; the oracle records it as a failure of that tarball and goes on.
let failCurrent = null
process.on('uncaughtException', e => {
  if (failCurrent) {
    failCurrent(e)
  } else {
    throw e
  }
})

async function extractOne (file, n) {
  const dest = path.join(work, 'x' + n)
  try {
    // The registry fetcher extracts with the packument's manifest already known
    // (`this.package`); give it one without `bin`, so that what is measured is extraction
    // itself (npm marks bin targets executable later, when it links them).
    const f = new pacote.FileFetcher('file:' + path.resolve(file), { cache })
    f.package = { name: 'oracle', version: '0.0.0' }
    await new Promise((resolve, reject) => {
      failCurrent = e => reject(Object.assign(new Error('npm crashed: ' + e.message), {
        code: 'CRASH ' + (e.code || ''),
      }))
      f.extract(dest).then(resolve, reject)
    })
    failCurrent = null
    return { file, ok: true, entries: walk(dest, '', []) }
  } catch (e) {
    failCurrent = null
    return { file, ok: false, error: String((e && (e.code || e.message)) || e) }
  } finally {
    fs.rmSync(dest, { recursive: true, force: true })
  }
}

async function main () {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  let n = 0
  for await (const line of rl) {
    if (!line) continue
    const r = await extractOne(line, n++)
    process.stdout.write(JSON.stringify(r) + '\n')
  }
  fs.rmSync(work, { recursive: true, force: true })
}

main().catch(e => {
  process.stderr.write(String(e && e.stack || e) + '\n')
  process.exit(2)
})
