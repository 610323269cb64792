# syntax=docker/dockerfile:1
# RealtimeDemo: build with the .NET SDK, run on the chiseled ASP.NET Core runtime (no shell, non-root).
#   docker build -t realtimedemo .
#   docker run --rm -p 8080:8080 realtimedemo

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source

# Restore from the project files alone, so this layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/RealtimeDemo/RealtimeDemo.csproj src/RealtimeDemo/
RUN dotnet restore src/RealtimeDemo/RealtimeDemo.csproj

# The same publish command CI runs (scripts/publish.sh).
COPY scripts/publish.sh scripts/
COPY wwwroot/ wwwroot/
COPY src/ src/
RUN scripts/publish.sh /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS final
WORKDIR /app
COPY --from=build /app .

# Every setting comes from the environment (Realtime__Retention=50000, ...); nothing is written to disk,
# so the container can run with a read-only file system.
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "RealtimeDemo.dll"]
