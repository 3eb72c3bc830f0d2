import { SetMetadata } from '@nestjs/common';

export const REQUIRED_APP_ROLE = 'requiredAppRole';
export const PUBLIC_ROUTE = 'publicRoute';

/** The app role of the backend API that lets the frontend read documents (infra/identities.json). */
export const DOCUMENTS_READ = 'Documents.Read';

/** The route answers only callers whose verified token carries this app role. */
export const RequireAppRole = (role: string) => SetMetadata(REQUIRED_APP_ROLE, role);

/** The route needs no token (the kubelet's probes). Every other route is refused without one. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
