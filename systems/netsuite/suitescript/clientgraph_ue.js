/**
 * clientgraph user-event script: after a record is saved, tell clientgraph which record
 * changed, so it re-reads it at once instead of at its next scheduled pull.
 *
 * Posts {"recordType", "id", "eventType"} to the gateway's POST /webhooks/netsuite, signed
 * with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64
 * HMAC-SHA256 of "<id>.<timestamp>.<body>">). Only ids travel: clientgraph re-reads the
 * record through SuiteTalk REST, so nothing in this message is trusted as data.
 *
 * Script parameters (Script record > Parameters):
 *   custscript_cg_webhook_url     the gateway's https://<host>/webhooks/netsuite
 *   custscript_cg_webhook_secret  the script ID of an API Secret (Setup > Company > API
 *                                 Secrets) holding the base64 text after "whsec_" of
 *                                 CLIENTGRAPH_NETSUITE__WEBHOOK_SECRET
 *
 * A failed post is tried once more with the same webhook-id (clientgraph deduplicates by
 * it), then logged; the save itself never fails because of clientgraph, and the scheduled
 * pull picks up what a lost notification missed. See docs/sync.md for deployment.
 *
 * @NApiVersion 2.1
 * @NScriptType UserEventScript
 * @NModuleScope SameAccount
 */
define(['N/https', 'N/crypto', 'N/encode', 'N/runtime', 'N/log'], (https, crypto, encode, runtime, log) => {
    const URL_PARAMETER = 'custscript_cg_webhook_url';
    const SECRET_PARAMETER = 'custscript_cg_webhook_secret';
    const ATTEMPTS = 2;

    /** What changed: the record's type and internal id, and how (create, edit, delete ...). */
    const notification = (context) => {
        const record = context.type === context.UserEventType.DELETE ? context.oldRecord : context.newRecord;
        return { recordType: record.type, id: String(record.id), eventType: String(context.type) };
    };

    /** A delivery id that stays the same across this script's own retries. */
    const webhookId = (change, timestamp) => {
        const random = Math.random().toString(36).slice(2, 10);
        const raw = `ns-${change.recordType}-${change.id}-${timestamp}-${random}`;
        return raw.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 128);
    };

    /** "v1,<base64 HMAC-SHA256>" of "<id>.<timestamp>.<body>" with the API Secret's key. */
    const signature = (secretId, id, timestamp, body) => {
        const key = crypto.createSecretKey({ secret: secretId, encoding: encode.Encoding.BASE_64 });
        const hmac = crypto.createHmac({ algorithm: crypto.HashAlg.SHA256, key });
        hmac.update({ input: `${id}.${timestamp}.${body}`, inputEncoding: encode.Encoding.UTF_8 });
        return `v1,${hmac.digest({ outputEncoding: encode.Encoding.BASE_64 })}`;
    };

    /** The signed request for one change, as https.post takes it. */
    const signedRequest = (url, secretId, change, now) => {
        const timestamp = String(Math.floor(now / 1000));
        const id = webhookId(change, timestamp);
        const body = JSON.stringify(change);
        const headers = {
            'Content-Type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': timestamp,
            'webhook-signature': signature(secretId, id, timestamp, body),
        };
        return { url, body, headers };
    };

    /** Post once, and once more on a failure; true when clientgraph accepted it (2xx). */
    const deliver = (request) => {
        for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
            try {
                const response = https.post(request);
                if (response.code >= 200 && response.code < 300) {
                    return true;
                }
                log.audit({ title: 'clientgraph webhook refused', details: `HTTP ${response.code}, attempt ${attempt}` });
            } catch (error) {
                log.audit({ title: 'clientgraph webhook failed', details: `${error.name || 'Error'}, attempt ${attempt}` });
            }
        }
        return false;
    };

    const afterSubmit = (context) => {
        const script = runtime.getCurrentScript();
        const url = script.getParameter({ name: URL_PARAMETER });
        const secretId = script.getParameter({ name: SECRET_PARAMETER });
        if (!url || !secretId) {
            log.error({ title: 'clientgraph webhook not configured', details: `set ${URL_PARAMETER} and ${SECRET_PARAMETER}` });
            return;
        }
        const change = notification(context);
        if (!deliver(signedRequest(url, secretId, change, Date.now()))) {
            log.error({ title: 'clientgraph webhook lost', details: `${change.recordType} ${change.id}: the scheduled pull will pick it up` });
        }
    };

    return { afterSubmit };
});
