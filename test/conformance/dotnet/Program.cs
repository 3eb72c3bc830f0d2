// Conformance checks of the local cloud with the .NET Azure SDKs: DefaultAzureCredential and only
// the variables the local cloud writes for a service (`dotnet run -- frontend|backend`). Prints
// one JSON line per check: {"check","expect","outcome","code","ok","detail"}; exit code 0.
using System.Text.Json;
using Azure;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Azure.Security.KeyVault.Secrets;
using Azure.Storage.Blobs;
using Microsoft.Azure.Cosmos;

var role = args.Length > 0 ? args[0] : throw new ArgumentException("usage: Conformance frontend|backend [documentId]");
string Env(string name) => Environment.GetEnvironmentVariable(name) ?? throw new InvalidOperationException($"{name} is not set");

// Client option 1: DisableInstanceDiscovery. Locally required (the authority is not a public
// cloud); on Azure harmless (instance discovery only validates a public authority).
var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions { DisableInstanceDiscovery = true });

var checks = new List<Dictionary<string, object?>>();
async Task Check(string name, string expect, Func<Task<string?>> run, Func<Exception, string?>? codeOf = null)
{
    string outcome;
    string? code = null;
    string? detail = null;
    try
    {
        detail = await run();
        outcome = "allowed";
    }
    catch (Exception error)
    {
        outcome = "denied";
        code = codeOf?.Invoke(error) ?? CodeOf(error);
        detail = Environment.GetEnvironmentVariable("CONFORMANCE_VERBOSE") == "1"
            ? error.ToString()[..Math.Min(2000, error.ToString().Length)]
            : error.GetType().Name + ": " + error.Message.Split('\n')[0];
    }
    var result = new Dictionary<string, object?>
    {
        ["check"] = name, ["expect"] = expect, ["outcome"] = outcome, ["code"] = code,
        ["ok"] = expect == "allowed" ? outcome == "allowed" : outcome == "denied" && code == expect,
        ["detail"] = detail,
    };
    checks.Add(result);
    Console.WriteLine(JsonSerializer.Serialize(result));
}

static string? CodeOf(Exception error) => error switch
{
    AuthenticationFailedException auth => System.Text.RegularExpressions.Regex.Match(auth.ToString(), "AADSTS\\d+").Value,
    RequestFailedException request => request.ErrorCode ?? request.Status.ToString(),
    CosmosException cosmos => $"{(int)cosmos.StatusCode}/{cosmos.SubStatusCode}",
    ServiceBusException bus => bus.Reason.ToString(),
    UnauthorizedAccessException => "UnauthorizedAccess",
    _ => error.GetType().Name,
};

// ---- Entra ------------------------------------------------------------------------------------
await Check("entra: token for Storage", "allowed", async () =>
{
    var token = await credential.GetTokenAsync(new Azure.Core.TokenRequestContext(["https://storage.azure.com/.default"]));
    return $"expires {token.ExpiresOn:O}";
});
await Check("entra: token for a resource that does not exist", "AADSTS500011", async () =>
{
    await credential.GetTokenAsync(new Azure.Core.TokenRequestContext(["https://evil.example/.default"]));
    return null;
});

// ---- Key Vault --------------------------------------------------------------------------------
// Client option 5: a transport that resolves <vault>.vault.localhost to loopback, what the Node
// preload does for the services. glibc resolves no subdomain of localhost (systemd-resolved and
// nss-myhostname do), and the SDK's challenge check needs the vault host to end with
// ".<resource host>", which no IP address can. Not needed on Azure (real DNS); harmless there,
// since it maps only names ending in ".localhost".
var vaultOptions = new SecretClientOptions
{
    Transport = new Azure.Core.Pipeline.HttpClientTransport(new System.Net.Http.SocketsHttpHandler
    {
        ConnectCallback = async (context, token) =>
        {
            var target = context.DnsEndPoint.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
                ? new System.Net.DnsEndPoint("127.0.0.1", context.DnsEndPoint.Port)
                : context.DnsEndPoint;
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(target, token);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        },
    }),
};
var vault = new SecretClient(new Uri(Env("AZURE_KEYVAULT_URL")), credential, vaultOptions);
var ownSecret = role == "frontend" ? Env("SESSION_SECRET_NAME") : Env("SIGNING_SECRET_NAME");
var otherSecret = role == "frontend" ? "backend-signing-key" : "frontend-session-key";
await Check("key vault: read own secret", "allowed", async () => $"{(await vault.GetSecretAsync(ownSecret)).Value.Value.Length} chars");
await Check("key vault: read the other service's secret", "Forbidden", async () => { await vault.GetSecretAsync(otherSecret); return null; });
await Check("key vault: list secrets (vault scope)", "Forbidden", async () =>
{
    await foreach (var _ in vault.GetPropertiesOfSecretsAsync()) { }
    return null;
});

// ---- Blob -------------------------------------------------------------------------------------
var blobService = new BlobServiceClient(new Uri(Env("AZURE_STORAGE_BLOB_ENDPOINT")), credential);
var uploads = blobService.GetBlobContainerClient(Env("UPLOADS_CONTAINER"));
var documentId = role == "frontend" ? Guid.NewGuid().ToString() : (args.Length > 1 ? args[1] : Guid.Empty.ToString());
var text = "Sent from .NET\nthrough the local cloud\n";
if (role == "frontend")
{
    await Check("blob: upload to uploads", "allowed", async () =>
    {
        await uploads.GetBlobClient(documentId).UploadAsync(BinaryData.FromString(text), overwrite: true);
        return documentId;
    });
}
else
{
    await Check("blob: read the uploaded blob", "allowed", async () =>
        (await uploads.GetBlobClient(documentId).DownloadContentAsync()).Value.Content.ToString().Length + " chars");
    await Check("blob: write to uploads (Data Reader)", "AuthorizationPermissionMismatch", async () =>
    {
        await uploads.GetBlobClient($"{Guid.NewGuid()}").UploadAsync(BinaryData.FromString("x"));
        return null;
    });
}
await Check("blob: create a container (container scope only)", "AuthorizationPermissionMismatch", async () =>
{
    await blobService.CreateBlobContainerAsync("dotnet-" + Guid.NewGuid().ToString("N")[..8]);
    return null;
});

// ---- Service Bus ------------------------------------------------------------------------------
// Client option 2: the namespace variable is host[:port]. The .NET client takes a host name only
// and always dials 5671; a non-default port goes in CustomEndpointAddress. On Azure the
// namespace is <name>.servicebus.windows.net and the option is not needed (nor harmful).
var ns = Env("AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE");
var host = ns.Split(':')[0];
var busOptions = new ServiceBusClientOptions
{
    TransportType = ServiceBusTransportType.AmqpTcp,
    RetryOptions = new ServiceBusRetryOptions { MaxRetries = 0, TryTimeout = TimeSpan.FromSeconds(15) },
};
if (ns.Contains(':')) busOptions.CustomEndpointAddress = new Uri($"sb://{ns}");
await using var bus = new ServiceBusClient(host, credential, busOptions);
var queue = Env("DOCUMENTS_QUEUE");
var message = new ServiceBusMessage(BinaryData.FromObjectAsJson(new
{
    type = "document.uploaded",
    schemaVersion = 1,
    documentId,
    blobName = documentId,
    fileName = "dotnet.txt",
    contentType = "text/plain",
    size = System.Text.Encoding.UTF8.GetByteCount(text),
    uploadedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"),
}))
{
    MessageId = documentId,
    ContentType = "application/json",
    Subject = "document.uploaded",
};
if (role == "frontend")
{
    await Check("service bus: send document.uploaded", "allowed", async () =>
    {
        await using var sender = bus.CreateSender(queue);
        await sender.SendMessageAsync(message);
        return documentId;
    });
    await Check("service bus: peek (no Listen)", "UnauthorizedAccess", async () =>
    {
        await using var receiver = bus.CreateReceiver(queue);
        await receiver.PeekMessagesAsync(10);
        return null;
    });
}
else
{
    await Check("service bus: peek the queue", "allowed", async () =>
    {
        await using var receiver = bus.CreateReceiver(queue);
        var peeked = await receiver.PeekMessagesAsync(10);
        return $"{peeked.Count} messages";
    });
    await Check("service bus: send (no Send)", "UnauthorizedAccess", async () =>
    {
        await using var sender = bus.CreateSender(queue);
        await sender.SendMessageAsync(new ServiceBusMessage("x"));
        return null;
    });
}

// ---- Cosmos DB --------------------------------------------------------------------------------
// Client option 3: Gateway mode (the emulator has no direct-mode TCP endpoints; on Azure Gateway
// mode is supported, Direct is the default for performance). Option 4: LimitToEndpoint, so the
// SDK keeps to the endpoint it was given (on Azure it disables regional failover; leave it off).
var cosmos = new CosmosClient(Env("AZURE_COSMOS_ENDPOINT"), credential, new CosmosClientOptions
{
    ConnectionMode = ConnectionMode.Gateway,
    LimitToEndpoint = true,
    RequestTimeout = TimeSpan.FromSeconds(15),
});
if (role == "backend")
{
    var container = cosmos.GetContainer(Env("COSMOS_DATABASE"), Env("COSMOS_CONTAINER"));
    await Check("cosmos: point read of the record the TypeScript worker wrote", "allowed", async () =>
    {
        var item = await container.ReadItemAsync<Newtonsoft.Json.Linq.JObject>(documentId, new PartitionKey(documentId));
        return $"size {item.Resource["size"]}, sha256 {item.Resource["sha256"]}";
    });
    await Check("cosmos: query", "allowed", async () =>
    {
        var query = new QueryDefinition("SELECT * FROM c WHERE c.id = @id").WithParameter("@id", documentId);
        var found = 0;
        using var feed = container.GetItemQueryIterator<Newtonsoft.Json.Linq.JObject>(query);
        while (feed.HasMoreResults) found += (await feed.ReadNextAsync()).Count;
        return found == 1 ? "1 record" : throw new InvalidOperationException($"found {found}");
    });
    await Check("cosmos: create a database (control plane)", "403/5300", async () =>
    {
        await cosmos.CreateDatabaseAsync("dotnet-" + Guid.NewGuid().ToString("N")[..8]);
        return null;
    });
}
else
{
    await Check("cosmos: read (no data-plane role)", "403/5301", async () =>
    {
        var container = cosmos.GetContainer("intake", "documents");
        await container.ReadItemAsync<Newtonsoft.Json.Linq.JObject>(documentId, new PartitionKey(documentId));
        return null;
    });
}

var passed = checks.Count(c => (bool)c["ok"]!);
Console.WriteLine(JsonSerializer.Serialize(new { role, documentId, passed, total = checks.Count }));
return 0;
