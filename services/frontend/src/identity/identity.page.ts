import type { IdentityProbe, IdentityReport } from '@wi/contracts';
import { html, type SafeHtml } from '../web/html.js';
import { layout } from '../web/layout.js';

type MaybeReport = IdentityReport | { unavailable: string };

/** Both services side by side, each probe green or red, each failure with its cause and fix. */
export function renderIdentityPage(frontend: IdentityReport, backend: MaybeReport): string {
  return layout(
    'identity',
    'Identity',
    html`<p>
      Neither service holds a key, a connection string or a secret to get into Azure. Each runs as
      its own managed identity, proves it with a token Kubernetes gives its pod, and is allowed
      exactly the data actions below, and nothing else.
    </p>`,
    html`${exchangeSteps()}
      <div class="cards">${serviceCard(frontend)} ${serviceCard(backend, 'backend')}</div>`,
  );
}

function exchangeSteps(): SafeHtml {
  return html`<section aria-labelledby="how-heading">
    <h2 id="how-heading">How a service gets in, without a secret</h2>
    <ol class="flow">
      <li>
        <strong>Kubernetes issues the pod a token.</strong> The kubelet writes a signed service
        account token to the file in <code>AZURE_FEDERATED_TOKEN_FILE</code>: issuer = the cluster's
        OIDC issuer, subject =
        <code>system:serviceaccount:&lt;namespace&gt;:&lt;service account&gt;</code>, audience =
        <code>api://AzureADTokenExchange</code>.
      </li>
      <li>
        <strong>The webhook tells the SDK where to go.</strong> Because the pod template has the
        label <code>azure.workload.identity/use: "true"</code>, the workload identity webhook
        injects <code>AZURE_CLIENT_ID</code> (from the service account's annotation),
        <code>AZURE_TENANT_ID</code> and <code>AZURE_AUTHORITY_HOST</code>.
      </li>
      <li>
        <strong>The SDK trades the token.</strong> <code>DefaultAzureCredential</code> picks
        <code>WorkloadIdentityCredential</code> and sends the file's token to Microsoft Entra ID as
        a client assertion for that client id.
      </li>
      <li>
        <strong>Entra ID checks the federated credential.</strong> The managed identity must have a
        federated credential whose issuer, subject and audience equal the token's. If so, Entra
        returns an access token for one resource (its <code>aud</code>).
      </li>
      <li>
        <strong>The resource checks the role.</strong> Key Vault, Storage, Service Bus and Cosmos DB
        verify the access token and look up the identity's role assignments for the exact data
        action at that scope: allowed, or 403.
      </li>
      <li>
        <strong>The backend checks its caller the same way.</strong> The frontend asks Entra ID for
        a token for the backend's own app registration (<code>BACKEND_API_SCOPE</code>); Entra
        issues one only to an identity assigned one of its app roles (AADSTS501051 otherwise). The
        backend verifies the signature against Entra's keys, the issuer, the audience, the expiry
        and the app role <code>Documents.Read</code>: allowed, or 401/403. The probe "call the
        backend API" shows this hop, allowed for the frontend and refused for the backend's own
        identity.
      </li>
    </ol>
    <p class="hint">
      Locally, <code>pnpm dev</code> plays the cluster and Entra: it writes the token file, serves
      the issuer and the token endpoint, and every emulator checks the roles in
      <code>infra/identities.json</code>.
    </p>
  </section>`;
}

function serviceCard(report: MaybeReport, name = 'frontend'): SafeHtml {
  if ('unavailable' in report) {
    return html`<section class="card fail" aria-label="${name}">
      <h2>${name}</h2>
      <p class="notice error" role="alert">No report: ${report.unavailable}</p>
    </section>`;
  }
  const problems = report.probes.filter((probe) => !probe.ok);
  const wi = report.workloadIdentity;
  return html`<section
    class="card ${problems.length ? 'fail' : 'ok'}"
    aria-label="${report.service}"
    data-service="${report.service}"
  >
    <h2>
      ${report.service}
      <span class="status ${problems.length ? 'failed' : 'processed'}"
        >${problems.length ? `${problems.length} problem${problems.length > 1 ? 's' : ''}` : 'least privilege holds'}</span
      >
    </h2>
    <dl class="facts">
      <dt>Client id</dt>
      <dd><code>${wi.clientId ?? 'not injected'}</code></dd>
      <dt>Tenant</dt>
      <dd><code>${wi.tenantId ?? 'not injected'}</code></dd>
      <dt>Token subject</dt>
      <dd><code>${wi.serviceAccountToken?.sub ?? wi.serviceAccountTokenError ?? '–'}</code></dd>
      <dt>Token issuer</dt>
      <dd><code>${wi.serviceAccountToken?.iss ?? '–'}</code></dd>
      <dt>Token expires</dt>
      <dd>${wi.serviceAccountToken?.expiresOn ?? '–'}</dd>
    </dl>
    <h3>Access tokens</h3>
    ${
      report.tokens.length
        ? html`<table>
            <thead>
              <tr>
                <th scope="col">Audience</th>
                <th scope="col">Credential</th>
                <th scope="col">Expires</th>
                <th scope="col">Exchanges</th>
              </tr>
            </thead>
            <tbody>
              ${report.tokens.map(
                (token) =>
                  html`<tr>
                    <td><code>${String(token.claims?.aud ?? token.scope)}</code></td>
                    <td>${token.credential ?? (token.lastError ? 'failed' : '–')}</td>
                    <td>${token.expiresOn ?? '–'}</td>
                    <td>${token.exchanges}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="hint">No token yet.</p>`
    }
    <h3>Permissions, probed live</h3>
    <ul class="probes">
      ${report.probes.map(probeItem)}
    </ul>
  </section>`;
}

function probeItem(probe: IdentityProbe): SafeHtml {
  const verdict = probe.ok
    ? probe.expected === 'denied'
      ? 'denied, as it must be'
      : 'allowed'
    : probe.expected === 'denied'
      ? 'allowed, but must not be'
      : probe.outcome === 'denied'
        ? 'denied'
        : 'failed';
  return html`<li
    class="probe ${probe.ok ? 'ok' : 'fail'}"
    data-resource="${probe.resource}"
    data-expected="${probe.expected}"
  >
    <span class="mark" aria-hidden="true">${probe.ok ? '✓' : '✗'}</span>
    <div>
      <strong>${probe.action}</strong> — ${verdict}
      <div class="hint"><code>${probe.dataAction}</code> on <code>${probe.scope}</code></div>
      ${
        probe.error && !probe.ok
          ? html`<div class="diagnosis">
              <div><span class="code">${probe.error.code}</span> ${probe.error.message}</div>
              <div><strong>Why:</strong> ${probe.error.cause}</div>
              <div><strong>Fix:</strong> <code class="fix">${probe.error.fix}</code></div>
            </div>`
          : ''
      }
      ${probe.error && probe.ok ? html`<div class="hint">Refused with <span class="code">${probe.error.code}</span>.</div>` : ''}
    </div>
  </li>`;
}
