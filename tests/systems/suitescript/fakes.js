'use strict';
// Small fakes of the SuiteScript 2.1 modules the user-event script uses, and a loader that
// runs the script's define() the way NetSuite's AMD loader would. Only what the script
// calls is faked; the HMAC is node's own, so the signature is real.
const nodeCrypto = require('node:crypto');
const fs = require('node:fs');
const vm = require('node:vm');

const Encoding = { UTF_8: 'UTF_8', BASE_64: 'BASE_64', HEX: 'HEX' };
const NODE_ENCODING = { UTF_8: 'utf8', BASE_64: 'base64', HEX: 'hex' };

/** N/crypto over a vault of API Secrets (script id → stored text). */
function fakeCrypto(vault) {
    return {
        HashAlg: { SHA256: 'SHA256', SHA512: 'SHA512' },
        createSecretKey({ secret, guid, encoding }) {
            if (guid !== undefined || !(secret in vault)) {
                throw Object.assign(new Error(`no API secret ${secret}`), { name: 'INVALID_SECRET_KEY' });
            }
            return { bytes: Buffer.from(vault[secret], NODE_ENCODING[encoding]) };
        },
        createHmac({ algorithm, key }) {
            const hmac = nodeCrypto.createHmac(algorithm.toLowerCase(), key.bytes);
            return {
                update({ input, inputEncoding }) { hmac.update(input, NODE_ENCODING[inputEncoding]); },
                digest({ outputEncoding }) { return hmac.digest(NODE_ENCODING[outputEncoding]); },
            };
        },
    };
}

/** N/https: records every post; answers come from a list (a number, or an Error to throw). */
function fakeHttps(answers = []) {
    const posts = [];
    return {
        posts,
        post(options) {
            posts.push(JSON.parse(JSON.stringify(options)));
            const answer = answers.length ? answers.shift() : 202;
            if (answer instanceof Error) throw answer;
            return { code: answer, body: '{}', headers: {} };
        },
    };
}

function fakeRuntime(parameters) {
    return { accountId: 'TSTDRV1', getCurrentScript: () => ({ getParameter: ({ name }) => parameters[name] ?? null }) };
}

function fakeLog() {
    const lines = [];
    const write = (level) => ({ title, details }) => lines.push({ level, title, details });
    return { lines, debug: write('debug'), audit: write('audit'), error: write('error') };
}

/** Load a SuiteScript file with these modules; returns what its define() factory returned. */
function load(path, modules) {
    let entry;
    const define = (names, factory) => { entry = factory(...names.map((n) => modules[n])); };
    vm.runInNewContext(fs.readFileSync(path, 'utf8'), { define }, { filename: path });
    return entry;
}

const UserEventType = { CREATE: 'create', EDIT: 'edit', XEDIT: 'xedit', DELETE: 'delete' };

/** The afterSubmit context NetSuite passes. */
function context(type, record) {
    const rec = { type: record.type, id: record.id };
    return { type, UserEventType, newRecord: type === 'delete' ? undefined : rec, oldRecord: rec };
}

module.exports = { Encoding, fakeCrypto, fakeHttps, fakeRuntime, fakeLog, load, context };
