#!/usr/bin/env bash
# Fetches AWS's DynamoDB Local (software.amazon.dynamodb:DynamoDBLocal, newest 2.x or 3.x) from Maven Central
# into .wsgate/dynamodb-local/ (git-ignored), with its dependencies and sqlite4java native libraries.
# Idempotent: does nothing when DynamoDBLocal.jar is already there. Needs Java 17+ and Maven.
# Start it with:
#   java -Djava.library.path=.wsgate/dynamodb-local/lib -cp '.wsgate/dynamodb-local/DynamoDBLocal.jar:.wsgate/dynamodb-local/lib/*' \
#     software.amazon.dynamodb.services.local.main.ServerRunner -inMemory -sharedDb -port 8000
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="$ROOT/.wsgate/dynamodb-local"
# Maven Central holds only 3.x releases of DynamoDBLocal today (2.x poms answer 404), so the range admits both.
VERSION_RANGE="${DYNAMODB_LOCAL_VERSION:-[2.0,4.0)}"
SDK_CLIENT_VERSION="${DYNAMODB_LOCAL_SDK_CLIENT_VERSION:-2.41.0}"

if [ -f "$TARGET/DynamoDBLocal.jar" ]; then
  echo "DynamoDB Local already in $TARGET"
  exit 0
fi
command -v mvn >/dev/null || { echo "fetch-dynamodb-local: mvn (Maven) is not installed" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch-dynamodb-local: java (17+) is not installed" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>wsgate.local</groupId>
  <artifactId>fetch-dynamodb-local</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <!-- DynamoDBLocal 3.3.1 wants these SDK clients at 2.48.3, which Maven Central lacks; an older client runs
       on the newer SDK core (ServerRunner needs pinpoint's exception classes at start-up). -->
  <dependencyManagement>
    <dependencies>
$(for a in cognitoidentity cognitoidentityprovider pinpoint dynamodb-enhanced; do
  echo "      <dependency><groupId>software.amazon.awssdk</groupId><artifactId>$a</artifactId><version>$SDK_CLIENT_VERSION</version></dependency>"
done)
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>software.amazon.dynamodb</groupId>
      <artifactId>DynamoDBLocal</artifactId>
      <version>$VERSION_RANGE</version>
    </dependency>
  </dependencies>
</project>
POM

mkdir -p "$TARGET/lib"
# Every jar and the sqlite4java native libraries (.so/.dylib/.dll) land in lib/.
mvn -q -B -f "$WORK/pom.xml" dependency:copy-dependencies \
  -DoutputDirectory="$TARGET/lib" -DincludeScope=runtime
# DynamoDBLocal's manifest Class-Path names DynamoDBLocal_lib/ files, not Maven's: start it with -cp (see top).
MAIN_JAR="$(ls "$TARGET"/lib/DynamoDBLocal-*.jar | head -n 1)"
cp "$MAIN_JAR" "$TARGET/DynamoDBLocal.jar"
# sqlite4java looks for libsqlite4java-<os>-<arch>.so; Maven names them sqlite4java-linux-amd64-<ver>.so.
for native in "$TARGET"/lib/*sqlite4java*.{so,dylib,dll}; do
  [ -e "$native" ] || continue
  base="$(basename "$native")"
  ext="${base##*.}"
  stem="${base%-*}"   # drop -<version>.<ext>
  case "$base" in
    lib*) cp "$native" "$TARGET/lib/$stem.$ext" ;;
    *)    cp "$native" "$TARGET/lib/lib$stem.$ext" ;;
  esac
done
echo "DynamoDB Local $(basename "$MAIN_JAR" .jar) fetched into $TARGET"
