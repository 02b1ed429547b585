// The baseline scripts/bench measures zcc-events against: what Zoom's own sample webhook
// server (Node + Express) does with each request. It parses the JSON body, checks
// x-zm-signature = "v0=" + HMAC-SHA256(secret, "v0:{timestamp}:{body}"), answers the
// endpoint.url_validation challenge with {plainToken, encryptedToken}, and answers 200 to
// every other signed event. Like the sample, it signs JSON.stringify(req.body) (the compact
// JSON Zoom sends) and does not check the timestamp's age; unlike it, it logs nothing per
// request, so that the comparison is with the request path alone.
//
//   ZOOM_WEBHOOK_SECRET_TOKEN=... PORT=4000 node server.js
'use strict';

const crypto = require('crypto');
const express = require('express');

const secret = process.env.ZOOM_WEBHOOK_SECRET_TOKEN;
if (!secret) {
  console.error('ZOOM_WEBHOOK_SECRET_TOKEN is not set');
  process.exit(2);
}
const port = Number(process.env.PORT || 4000);
const host = process.env.HOST || '127.0.0.1';

const app = express();
app.use(express.json());

app.post('/webhook', (req, res) => {
  const message = `v0:${req.headers['x-zm-request-timestamp']}:${JSON.stringify(req.body)}`;
  const hashForVerify = crypto.createHmac('sha256', secret).update(message).digest('hex');
  const signature = `v0=${hashForVerify}`;
  if (req.headers['x-zm-signature'] !== signature) {
    res.status(401).json({ message: 'Unauthorized request to Zoom Webhook sample.', status: 401 });
    return;
  }
  if (req.body.event === 'endpoint.url_validation') {
    const plainToken = req.body.payload.plainToken;
    const encryptedToken = crypto.createHmac('sha256', secret).update(plainToken).digest('hex');
    res.status(200).json({ plainToken, encryptedToken });
    return;
  }
  res.status(200).json({ message: 'Authorized request to Zoom Webhook sample.', status: 200 });
});

app.listen(port, host, () => {
  console.log(`zoom-sample listening on http://${host}:${port}/webhook`);
});
