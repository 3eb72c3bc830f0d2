// Service Bus's part of the failure classification, in its own entry point (@wi/azure/service-bus)
// so that only a service that uses Service Bus loads its SDK.
import { isServiceBusError, ServiceBusError, type ServiceBusErrorCode } from '@azure/service-bus';
import type { AzureFailureRecognizer } from './azure-failure.js';

/** What the Service Bus SDK reports when the namespace is busy, slow or out of reach. */
const TRANSIENT_SERVICE_BUS_CODES: ReadonlySet<ServiceBusErrorCode> = new Set([
  'ServiceBusy',
  'ServiceTimeout',
  'ServiceCommunicationProblem',
  'GeneralError',
]);

/** UnauthorizedAccess, MessagingEntityNotFound, MessageLockLost, ... are answers, not outages. */
export const recognizeServiceBusError: AzureFailureRecognizer = (error) => {
  if (!isServiceBusError(error)) return undefined;
  return { transient: TRANSIENT_SERVICE_BUS_CODES.has(error.code) };
};

/** For a service's AzureFailureFilter @Catch(...), beside AZURE_SDK_ERRORS. */
export const SERVICE_BUS_ERRORS = [ServiceBusError] as const;
