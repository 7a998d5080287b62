'use strict';
// The NetSuite user-event script under node's test runner, N/* modules faked.
// With CG_SUITESCRIPT_OUT set, the signed requests it made are written there (JSON) so the
// Python side can check them with clientgraph's own verifier (tests/systems/test_suitescript.py).
const assert = require('node:assert/strict');
const nodeCrypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { Encoding, fakeCrypto, fakeHttps, fakeRuntime, fakeLog, load, context } = require('./fakes.js');

const SCRIPT = path.join(__dirname, '..', '..', '..', 'systems', 'netsuite', 'suitescript', 'clientgraph_ue.js');
const KEY = process.env.CG_SUITESCRIPT_KEY_B64 || nodeCrypto.randomBytes(32).toString('base64');
const URL = 'https://gateway.example/webhooks/netsuite';
const PARAMETERS = { custscript_cg_webhook_url: URL, custscript_cg_webhook_secret: 'custsecret_cg' };
const written = [];

function script({ answers, parameters = PARAMETERS } = {}) {
    const https = fakeHttps(answers);
    const log = fakeLog();
    const modules = {
        'N/https': https,
        'N/crypto': fakeCrypto({ custsecret_cg: KEY }),
        'N/encode': { Encoding },
        'N/runtime': fakeRuntime(parameters),
        'N/log': log,
    };
    return { entry: load(SCRIPT, modules), https, log };
}

function expectedSignature(headers, body) {
    const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`;
    return 'v1,' + nodeCrypto.createHmac('sha256', Buffer.from(KEY, 'base64')).update(signed).digest('base64');
}

test('the script declares itself a SuiteScript 2.1 user-event script', () => {
    const source = fs.readFileSync(SCRIPT, 'utf8');
    assert.match(source, /@NApiVersion 2\.1/);
    assert.match(source, /@NScriptType UserEventScript/);
    assert.deepEqual(Object.keys(script().entry), ['afterSubmit']);
});

test('afterSubmit posts the record type, id and event type, signed with Standard Webhooks', () => {
    const { entry, https } = script();
    const before = Math.floor(Date.now() / 1000);

    entry.afterSubmit(context('edit', { type: 'job', id: 1234 }));

    assert.equal(https.posts.length, 1);
    const [request] = https.posts;
    assert.equal(request.url, URL);
    assert.deepEqual(JSON.parse(request.body), { recordType: 'job', id: '1234', eventType: 'edit' });
    assert.equal(request.headers['Content-Type'], 'application/json');
    assert.match(request.headers['webhook-id'], /^[A-Za-z0-9_.:-]{1,128}$/);
    assert.ok(Math.abs(Number(request.headers['webhook-timestamp']) - before) <= 5);
    assert.equal(request.headers['webhook-signature'], expectedSignature(request.headers, request.body));
    written.push(request);
});

test('a delete names the deleted record (the old record)', () => {
    const { entry, https } = script();
    entry.afterSubmit(context('delete', { type: 'invoice', id: '77' }));
    assert.deepEqual(JSON.parse(https.posts[0].body), { recordType: 'invoice', id: '77', eventType: 'delete' });
    written.push(https.posts[0]);
});

test('a failed post is tried once more with the same webhook-id, then logged, never thrown', () => {
    const { entry, https, log } = script({ answers: [new Error('timeout'), 503] });

    entry.afterSubmit(context('create', { type: 'customer', id: '9' }));

    assert.equal(https.posts.length, 2);
    assert.equal(https.posts[0].headers['webhook-id'], https.posts[1].headers['webhook-id']);
    assert.equal(https.posts[0].body, https.posts[1].body);
    assert.ok(log.lines.some((l) => l.level === 'error' && /lost/.test(l.title)));
});

test('a retry that succeeds logs no error', () => {
    const { entry, https, log } = script({ answers: [500, 202] });
    entry.afterSubmit(context('xedit', { type: 'timebill', id: '5' }));
    assert.equal(https.posts.length, 2);
    assert.ok(!log.lines.some((l) => l.level === 'error'));
});

test('without its parameters the script posts nothing and says what to set', () => {
    const { entry, https, log } = script({ parameters: { custscript_cg_webhook_url: URL } });
    entry.afterSubmit(context('edit', { type: 'job', id: '1' }));
    assert.equal(https.posts.length, 0);
    assert.ok(log.lines.some((l) => l.level === 'error' && /custscript_cg_webhook_secret/.test(l.details)));
});

test('the secret never appears in a request or a log line', () => {
    const { entry, https, log } = script({ answers: [500, 500] });
    entry.afterSubmit(context('edit', { type: 'job', id: '2' }));
    assert.ok(!JSON.stringify([https.posts, log.lines]).includes(KEY));
});

test.after(() => {
    if (process.env.CG_SUITESCRIPT_OUT) {
        fs.writeFileSync(process.env.CG_SUITESCRIPT_OUT, JSON.stringify(written));
    }
});
